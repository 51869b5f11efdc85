"""Benchmark 2: APDU round trip through our card driver against raw pyscard, same card, same pcscd.

The simulated card bench (:class:`drivers.sim.cardbench.SimCardBench`: pcscd with vpcd, started when
not running, as root) lends us a slot; the ``emv-visa-contact`` virtual card (T=0) goes in it.

Ours: ``CardReaderClient.transmit(SELECT PSE)``. The card answers ``61xx`` and the driver issues the
GET RESPONSE, so one ``transmit`` is two PC/SC exchanges. Raw: the same two exchanges with
``smartcard.scard.SCardTransmit`` on a handle of its own to the same reader (SELECT PSE, then
``00 C0 00 00 xx`` for the ``61xx``), so both sides do the same work on the wire: like with like.
Each figure is the mean round trip of 1,000 such commands; the two sides alternate in blocks.
"""

from __future__ import annotations

import time

from benchmarks.common import Row, Series, cli

N_APDUS = 1000
SELECT_PSE = bytes.fromhex("00A404000E315041592E5359532E444446303100")


def run(reps: int) -> list[Row]:
    from smartcard import scard

    from drivers.cardreader import open_card_reader
    from drivers.sim.cardbench import SimCardBench

    with SimCardBench() as cards:
        slot = cards.lease()
        cards.insert("emv-visa-contact", slot)
        reader = open_card_reader(cards.reader_url(slot))
        try:
            reader.connect(timeout=5.0)
            first = reader.transmit(SELECT_PSE)
            assert first.ok and first.exchanges == 2, f"expected 61xx then 9000, got {first}"
            hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            assert hr == 0, scard.SCardGetErrorMessage(hr)
            hr, card, proto = scard.SCardConnect(ctx, cards.reader_name(slot), scard.SCARD_SHARE_SHARED,
                                                 scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
            assert hr == 0, scard.SCardGetErrorMessage(hr)
            select = list(SELECT_PSE)

            def raw_once() -> bytes:
                hr, resp = scard.SCardTransmit(card, proto, select)
                if hr != 0:
                    raise RuntimeError(scard.SCardGetErrorMessage(hr))
                if len(resp) == 2 and resp[0] == 0x61:
                    hr, resp = scard.SCardTransmit(card, proto, [0x00, 0xC0, 0x00, 0x00, resp[1]])
                    if hr != 0:
                        raise RuntimeError(scard.SCardGetErrorMessage(hr))
                return bytes(resp)

            assert raw_once() == first.data + bytes((first.sw1, first.sw2))

            def ours_block() -> float:
                t0 = time.perf_counter()
                for _ in range(N_APDUS):
                    reader.transmit(SELECT_PSE)
                return (time.perf_counter() - t0) / N_APDUS

            def raw_block() -> float:
                t0 = time.perf_counter()
                for _ in range(N_APDUS):
                    raw_once()
                return (time.perf_counter() - t0) / N_APDUS

            ours_block(), raw_block()  # warm-up
            ours, raw = [], []
            for i in range(reps):
                pair = (ours_block, raw_block) if i % 2 == 0 else (raw_block, ours_block)
                a, b = pair[0](), pair[1]()
                o, r = (a, b) if i % 2 == 0 else (b, a)
                ours.append(o * 1000)
                raw.append(r * 1000)
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
            scard.SCardReleaseContext(ctx)
        finally:
            reader.close()
    o, r = Series("ms/APDU", ours), Series("ms/APDU", raw)
    ratio = o.median / r.median
    return [Row(
        bench="2", what="SELECT PSE + GET RESPONSE (T=0), 1,000 APDUs, vpcd virtual card",
        ours=o, ref=r, ref_name="raw pyscard SCardTransmit", ratio=ratio, ratio_label="ours/raw",
        target="ratio ≤ 1.05", met=ratio <= 1.05,
    )]


def main() -> None:
    cli("Benchmark 2: APDU round trip, our driver vs raw pyscard", run, default_reps=5)


if __name__ == "__main__":
    main()
