"""Incoming inspection of lots: ISO 2859-1 sampling (:mod:`.sampling`) and lots kept in the store (:mod:`.store`)."""
