"""Wire codecs shared by the drivers and the harness: ISO 7816 and ATR, BER-TLV, PAN masking,
magstripe tracks, the unit's event-log codes, and the unit link's frames."""
