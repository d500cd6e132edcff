"""Only the parts pyproject.toml cannot say: the RISC-V VM's instruction meter, in C.

The extension is optional: without a C compiler rollupkit installs anyway and the RISC-V VM
meters instructions with a Python hook instead (the same gas, far slower); ``rollupkit
plugins`` says which one is in use.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("rollupkit_riscv._meter", ["plugins/riscv/_meter.c"], optional=True),
    ]
)
