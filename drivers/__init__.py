"""Device drivers: wires and protocols, nothing about plans.

* :mod:`drivers.interfaces` holds one abstract class per device kind (the contract).
* :mod:`drivers.registry` opens a device from a URL.
* :mod:`drivers.link`, :mod:`drivers.unit`, :mod:`drivers.cardreader`, :mod:`drivers.printer`
  are the real implementations; :mod:`drivers.sim` the simulated bench.
"""
