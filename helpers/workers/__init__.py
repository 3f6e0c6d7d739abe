"""What runs in a child: light modules, standard library (NumPy where a worker computes with it)."""
