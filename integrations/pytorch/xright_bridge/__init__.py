"""xright-bridge: ALRIGHT/MAXRIGHT (arXiv 2410.15483) on PyTorch, with xright's run log, socket and commands."""

__version__ = "0.1.0"
