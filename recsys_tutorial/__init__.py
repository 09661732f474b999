"""recsys_tutorial: the helper package of the book on fine-tuning language models for recommendation."""

__version__ = "0.1.0"
