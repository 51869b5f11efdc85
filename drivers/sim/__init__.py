"""The simulated bench: devices that speak the real protocols, for runs without hardware."""
