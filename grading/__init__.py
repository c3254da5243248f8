"""The TinyTorch Classroom autograder, the `tiny` command and its pytest plugin."""
