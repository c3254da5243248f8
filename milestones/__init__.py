"""Historical milestones: each `mN_*.py` defines main(argv) -> int and exits non-zero on FAIL."""


def not_implemented_verdict(error: NotImplementedError, threshold: float) -> str:
    """The FAIL line of a milestone that met a stubbed exercise in a module it needs."""
    return (
        f"FAIL: not implemented yet: {error}. Finish that exercise, then run this "
        f"milestone again (threshold {threshold:.0%})."
    )
