"""python -m micrograd: print the op registry as the Markdown table the docs' ops page shows."""

from .ops import op_table

print(op_table())
