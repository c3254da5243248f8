"""part_of: a class written across notebook cells behaves as one class."""

import numpy as np
import pytest

from tinytorch._cells import part_of


class Base:
    def __init__(self, value):
        self.value = value


Base.__module__ = "tinytorch.m99_cells"  # as if written in a course module file


def test_members_of_a_part_become_the_targets_own():
    @part_of(Base)
    class Doubling:
        """A part."""

        scale = 2

        def double(self):
            return self.value * self.scale

        @property
        def half(self):
            return self.value / 2

        @staticmethod
        def unit():
            return Base(1)

    assert Base(3).double() == 6 and Base(3).half == 1.5 and Base.unit().value == 1
    assert vars(Base)["double"] is vars(Doubling)["double"]  # in the class's own dict
    assert Base.double.__qualname__ == "Base.double"
    assert Base.__doc__ is None and Base.__module__ == "tinytorch.m99_cells"  # not copied


def test_a_part_using_zero_argument_super_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"super\(Base, self\)"):

        @part_of(Base)
        class Broken:
            def __init__(self, value):
                super().__init__(value)


@pytest.mark.parametrize("target", [np.ndarray, np.errstate, dict, pytest.Item])
def test_a_part_extends_only_classes_of_course_module_files(target):
    """A module file may not use part_of to rewrite NumPy's, pytest's or Python's classes."""
    with pytest.raises(TypeError, match="a class written in a module file of this course"):

        @part_of(target)
        class Sneaky:
            def __eq__(self, other):
                return True
