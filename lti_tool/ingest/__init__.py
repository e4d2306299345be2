"""Course import: readers per format -> neutral document tree -> splitter -> review cards.

Pure Python: no Flask, LTI or database. The public entry points live in ``importer``.
"""
