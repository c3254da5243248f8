"""Historical milestones: each `mN_*.py` defines main(argv) -> int and exits non-zero on FAIL."""
