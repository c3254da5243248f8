"""`part_of`: write one class across several notebook cells, one exercise per cell.

A Jupyter cell cannot hold half a class, so a class whose methods belong to different
exercises is written as a first cell with the class itself, then one cell per exercise:

    @part_of(Tensor)
    class TensorArithmetic:          # 01.2: its methods become Tensor's own
        def __add__(self, other): ...

Every method, property and class attribute of the decorated body is set on the target class
itself (so `vars(Tensor)` lists it, exactly as if it had been written inside `class Tensor`);
the decorated name stays bound to the small part class, which nothing else uses.
"""

from __future__ import annotations

import re
import types

# What Python puts into every class body by itself: never copied.
CLASS_MACHINERY = frozenset(
    {
        "__module__",
        "__qualname__",
        "__doc__",
        "__dict__",
        "__weakref__",
        "__firstlineno__",
        "__static_attributes__",
        "__annotations__",
        "__annotate__",
        "__annotate_func__",
        "__classdictcell__",
    }
)


COURSE_MODULE = re.compile(r"tinytorch\.m\d\d_\w+")  # a module file's import name (_loader.py)


def part_of(target: type):
    """Class decorator: copy the decorated class body's members onto `target`.

    Raises TypeError when `target` is not a class of a course module file (a part may extend
    the course's own classes only, never NumPy's or the standard library's), and for a method
    that uses zero-argument `super()`: inside a part it would refer to the part, not to
    `target` (write `super(Target, self)` instead)."""
    if not (isinstance(target, type) and COURSE_MODULE.fullmatch(target.__module__ or "")):
        raise TypeError(
            f"@part_of({getattr(target, '__name__', target)!r}): a part extends a class written "
            f"in a module file of this course, such as Tensor"
        )

    def attach(part: type) -> type:
        for name, value in vars(part).items():
            if name in CLASS_MACHINERY:
                continue
            function = getattr(value, "fget", None) or getattr(value, "__func__", None) or value
            if isinstance(function, types.FunctionType):
                if "__class__" in function.__code__.co_freevars:
                    raise TypeError(
                        f"{part.__name__}.{name} uses super() without arguments, which inside "
                        f"@part_of({target.__name__}) means the part: write "
                        f"super({target.__name__}, self)"
                    )
                function.__qualname__ = f"{target.__qualname__}.{function.__name__}"
            setattr(target, name, value)
        return part

    return attach
