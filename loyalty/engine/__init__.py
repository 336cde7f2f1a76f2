"""The loyalty rules' arithmetic, free of Django: parameters per rule kind (``params``) and the evaluation of the
active rules on a customer and a cart (``evaluate``). The Django side reads facts and rules from the database,
calls in here, and stores what it decided."""
