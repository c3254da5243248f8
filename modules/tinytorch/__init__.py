"""TinyTorch: the framework you build, one module file at a time.

`tinytorch.core`, `tinytorch.nn`, `tinytorch.optim`, ... are not copies of your
work: each name is looked up in the `module.yaml` files under `modules/` and
loaded straight from the one file you edit (`modules/NN_name/<source>.py`), at
import time, in every process. There is no export step and nothing can go stale.

    >>> from tinytorch.core import Tensor      # reads modules/01_tensor/tensor.py
"""

from tinytorch._loader import install_namespaces

__all__ = install_namespaces(__name__)
