"""Sample drivers, written only against the DDI as a Windows driver author would write them.

- :mod:`condis.drivers.mcm`: an MCM for an ATM-like adapter with integrated call management.
- :mod:`condis.drivers.cm` and :mod:`condis.drivers.miniport`: the same signaling in a stand-alone
  call manager over a plain CoNDIS miniport.
- :mod:`condis.drivers.client`: a client that registers a SAP, places, accepts, sends on and
  closes calls.

Both call managers speak the same signaling (:mod:`condis.drivers.signaling`) over a
:class:`condis.Wire`, so any two hosts interoperate.
"""
