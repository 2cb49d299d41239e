"""The tables of migration 0001, one module per part of the model, created in this order:
:mod:`.intake`, :mod:`.staff`, :mod:`.grouping`, :mod:`.agenda` (each only refers to tables
of the modules before it or its own), and dropped in the reverse order."""
