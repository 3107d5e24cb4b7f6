"""The optional C merge loop of the book engine (``okx_trio/_book_side_c.c``).

Everything else is in ``pyproject.toml``. ``optional=True``: where no C compiler is found the
build goes on without the module, and the engine runs its pure-Python loop (same results;
``okx_trio._book_side.ACCELERATED`` says which one runs).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "okx_trio._book_side_c",
            sources=["okx_trio/_book_side_c.c"],
            optional=True,
        )
    ]
)
