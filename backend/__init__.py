"""mesh2cad backend: a triangle mesh or point cloud in, a verified sketch-and-extrude CAD program out.

The pipeline (``reconstruct``) runs these stages, one package each:

    intake    check the input, find the part's own frame, normalise, observe points/normals/noise
    model     encode points (PointNet++-style) and write candidate programs (``decode``: grammar-masked)
    sections  candidate programs fitted from the input's cross-sections
    verify    rebuild, measure and choose by one rule; refine; guard the volume
    export    STEP and CadQuery from the chosen program

``cad`` is the one program schema (and its text, tokens, grammar, curves); ``geometry`` builds solids,
reads meshes and measures; ``data`` generates training parts; ``server`` and ``cli`` are the two ways
in; ``evaluate`` and ``train`` measure and train. See docs/architecture.md.
"""
