"""sealgate's PyTorch side: a Llama-architecture model in Hugging Face format, PEFT LoRA adapters stacked by
rank concatenation, and a LoRA trainer driven over stdio (see gpu/README.md).

Kept free of imports so that subpackages that do not need torch can be imported without it.
"""

__version__ = "0.1.0"
