"""The busy-hour soak's device-free half: the profile, the arrivals, the tally and its verdicts.

* :mod:`~bench.soak.profile` a profile file validated into a :class:`~bench.soak.profile.SoakProfile`
  (:mod:`~bench.soak.limits` its limits, :mod:`~bench.soak.cards` the card names it may use);
* :mod:`~bench.soak.schedule` the seeded arrivals that follow its rate curve;
* :mod:`~bench.soak.stats` the running tally of finished sales and samples, and its summary;
* :mod:`~bench.soak.judge` the summary against the profile's limits, as measurements.

The engine that drives units (check ``soak.sales``) and the CLI build on these; nothing here talks
to a device.
"""
