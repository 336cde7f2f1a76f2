"""Programme effect: who was exposed to each programme (treated or held out), what each group bought and cost
afterwards, and whether the difference pays (``stats``)."""
