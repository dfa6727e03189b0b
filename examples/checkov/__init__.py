"""checkov loads external checks only from a package: this makes examples/checkov one."""
