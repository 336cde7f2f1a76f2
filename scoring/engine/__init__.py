"""The numerical engine of the importance score: plain numpy/scipy on float64 arrays, no Django. The scoring app
feeds it arrays from one SQL aggregate and writes its results back in bulk (converting money to Decimal).

- ``summary``: ``collapse`` identical (x, t_x, T) rows into weights; ``check_summaries``.
- ``bgnbd``: ``fit`` → ``BgNbdFit`` (params r, α, a, b; log-likelihood; iterations; converged; message, reason);
  ``probability_alive``, ``expected_transactions`` (Fader, Hardie & Lee 2005).
- ``gamma_gamma``: ``fit`` → ``GammaGammaFit`` (p, q, γ); ``expected_average_value``.
- ``clv``: ``predicted_clv`` and ``predict`` (every per-customer figure of the two models in one pass).
- ``rfm``: ``quintile_scores``, ``rfm_scores``, ``rf_segments``, the map ``RF_MAP`` / ``segment_map()``.
- ``importance``: ``importance`` (percentile 0–100), ``tiers``, ``explanation``.
- ``checks``: ``fallback_reason``: whether to fall back to RF quintiles, and why.
"""
