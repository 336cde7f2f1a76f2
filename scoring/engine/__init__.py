"""The numerical engine of the importance score: plain numpy/scipy on arrays, no Django. The scoring app feeds it
arrays from one SQL aggregate and writes its results back in bulk."""
