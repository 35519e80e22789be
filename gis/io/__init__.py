"""Opening data files: text-encoding detection and vector/CSV readers (no schema knowledge).

- :mod:`gis.io.encodings`: UTF-8 (with or without BOM) or CP932 detected from the bytes;
- :mod:`gis.io.files`: Shapefile (bare or zipped), GeoJSON, GeoPackage and CSV opened into
  :class:`~gis.io.files.RawLayer` / pandas tables, refusing with :class:`~gis.errors.Problem`
  records. What the columns mean is :mod:`gis.sources`' business.
"""
