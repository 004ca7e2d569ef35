"""python -m micrograd: print the op registry as the Markdown table the README shows."""

from .ops import op_table

print(op_table())
