"""Helpers shared by the graded tests (protected with the import layer; not an exercise)."""

import numpy as np
import pytest

from tinytorch.core import Tensor

# The operations that every later module relies on (see Module 01).
PRIMITIVES = ("__add__", "__mul__", "__pow__", "matmul", "sum", "max", "reshape")
PRIMITIVES += ("transpose", "exp", "log", "__getitem__")


def assert_built_from_tensor_ops(what, call, **sources):
    """Fail unless the result of call() is made from every Tensor in `sources` by Tensor
    operations (Rule 1 of Module 02).

    While call() runs, each Tensor operation records which Tensors it made its result
    from; afterwards we walk those records back from the result, looking for each source.
    """
    made_from = {}  # id(result) -> (result, inputs); keeping result keeps its id unique

    def recorder(operation):
        def recording(self, *args, **kwargs):
            result = operation(self, *args, **kwargs)
            inputs = [self, *(arg for arg in args if isinstance(arg, Tensor))]
            made_from[id(result)] = (result, inputs)
            return result

        return recording

    with pytest.MonkeyPatch.context() as patch:
        for name in PRIMITIVES:
            patch.setattr(Tensor, name, recorder(getattr(Tensor, name)))
        output = call()

    def reaches(source) -> bool:
        stack, seen = [output], set()
        while stack:
            node = stack.pop()
            if node is source:
                return True
            if id(node) not in seen:
                seen.add(id(node))
                stack.extend(made_from.get(id(node), (None, []))[1])
        return False

    for name, source in sources.items():
        if not reaches(source):
            pytest.fail(
                f"{what}: the result is not computed from {name} with Tensor operations "
                f"(+, -, *, /, **, @, exp, log, sum, max, ...). It looks as if the numbers were "
                f"computed with NumPy on .data and wrapped in a new Tensor. Module 05 only sees "
                f"results built from their inputs by Tensor operations; use .data with NumPy "
                f"only for constants such as masks, then combine them with Tensor operations "
                f"(e.g. x * mask).",
                pytrace=False,
            )


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Four overlapping Gaussian classes in 12 dimensions (fixed centres): (n, 12) float32
    points and (n,) labels, a small problem that integration tests train on."""
    centers = np.random.default_rng(100).normal(size=(4, 12))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=n)
    return (centers[labels] + 1.2 * rng.normal(size=(n, 12))).astype(np.float32), labels
