"""Datasets shipped offline (TinyDigits, TinyTalks) and downloaded on first use (CIFAR-10)."""
