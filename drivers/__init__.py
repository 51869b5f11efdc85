"""Device drivers: wires and protocols, nothing about plans.

* :mod:`drivers.interfaces` holds one abstract class per device kind (the contract).
* :mod:`drivers.registry` opens a device from a URL.
* :mod:`drivers.link`, :mod:`drivers.unit`, :mod:`drivers.cardreader`, :mod:`drivers.printer`
  (opened by :mod:`drivers.printer_usb` and :mod:`drivers.printer_serial`) are the real
  implementations; :mod:`drivers.sim` the simulated bench.
* :mod:`drivers.escpos` is the receipt printers' language: encoders, status, parser, renderer.
"""
