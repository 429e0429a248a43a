"""Seeding the tile cache and exporting tiles (MBTiles, PMTiles) from the command line,
on the fixture boundaries; the files are read back and their tiles decoded."""

from __future__ import annotations

import sqlite3

import mapbox_vector_tile
import pytest
from click.testing import CliRunner

from geoservice.api.export import parse_zooms
from geoservice.cli import main
from geoservice.tilemath import count_tiles, tile_range
from tests.conftest import _copy_database

FIXTURE_BBOX = "102.1,21.4,106.2,23.4"  # provinces 11 (Điện Biên) and 08 (Tuyên Quang)


@pytest.fixture
def instance(tmp_path, loaded_db):
    _copy_database(loaded_db, tmp_path / "geoservice.sqlite")
    return tmp_path


def run(instance, *args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False,
                              env={"GEOSERVICE_INSTANCE_PATH": str(instance)})


def test_tile_ranges():
    tiles = list(tile_range((102.1, 21.4, 106.2, 23.4), 6, 7))
    assert len(tiles) == count_tiles((102.1, 21.4, 106.2, 23.4), 6, 7)
    assert (6, 50, 27) in tiles and all(z in (6, 7) for z, _x, _y in tiles)
    assert parse_zooms("5-10") == (5, 10) and parse_zooms("7") == (7, 7)
    for bad in ("10-5", "a-b", "1-2-3", "0-23"):
        with pytest.raises(Exception, match="zooms"):
            parse_zooms(bad)


def test_seed_tiles_fills_the_cache(instance):
    result = run(instance, "seed-tiles", "communes", "--zooms", "7-8", "--bbox", FIXTURE_BBOX)
    assert result.exit_code == 0, result.output
    assert "tiles seeded" in result.output
    cached = list((instance / "tile-cache" / "communes").rglob("*.mvt"))
    assert cached and any(p.stat().st_size > 0 for p in cached)


def test_export_mbtiles_holds_decodable_tiles(instance):
    out = instance / "communes.mbtiles"
    result = run(instance, "export-tiles", "communes", "--zooms", "7-8", "--bbox",
                 FIXTURE_BBOX, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "deprecated" not in result.output
    conn = sqlite3.connect(out)
    meta = dict(conn.execute("SELECT name, value FROM metadata"))
    assert meta["format"] == "pbf" and meta["name"] == "communes"
    z, x, row, data = conn.execute("SELECT * FROM tiles ORDER BY length(tile_data) DESC "
                                   "LIMIT 1").fetchone()
    decoded = mapbox_vector_tile.decode(data)
    names = {f["properties"]["name"] for f in decoded["communes"]["features"]}
    assert z in (7, 8) and names and any("ư" in n or "ũ" in n or "ơ" in n for n in names)


def test_export_pmtiles_of_vector_tiles_follows_the_specification(instance):
    import gzip

    from pmtiles.reader import MmapSource, Reader
    from pmtiles.tile import Compression, TileType

    out = instance / "communes.pmtiles"
    result = run(instance, "export-tiles", "communes", "--zooms", "7-8", "--bbox",
                 FIXTURE_BBOX, "--output", str(out))
    assert result.exit_code == 0, result.output
    with open(out, "rb") as handle:
        reader = Reader(MmapSource(handle))
        header, metadata = reader.header(), reader.metadata()
        tiles = [reader.get(z, x, y) for z, x, y in tile_range(
            tuple(float(v) for v in FIXTURE_BBOX.split(",")), 7, 8)]
    assert header["tile_type"] == TileType.MVT
    assert header["tile_compression"] == Compression.GZIP
    layers = metadata["vector_layers"]
    assert isinstance(layers, list) and layers[0]["id"] == "communes"
    assert layers[0]["fields"]["name"] == "String"
    stored = [data for data in tiles if data]
    assert stored and all(data[:2] == b"\x1f\x8b" for data in stored)  # gzip
    decoded = mapbox_vector_tile.decode(gzip.decompress(max(stored, key=len)))
    assert decoded["communes"]["features"]


def test_export_pmtiles_of_png_tiles(instance):
    from pmtiles.reader import MmapSource, Reader

    out = instance / "provinces.pmtiles"
    result = run(instance, "export-tiles", "provinces", "--zooms", "6-7", "--format", "png",
                 "--bbox", FIXTURE_BBOX, "-o", str(out))
    assert result.exit_code == 0, result.output
    with open(out, "rb") as handle:
        reader = Reader(MmapSource(handle))
        header = reader.header()
        assert (header["min_zoom"], header["max_zoom"]) == (6, 7)
        data = reader.get(6, 50, 27)
    assert data and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_export_needs_a_known_suffix(instance):
    result = run(instance, "export-tiles", "communes", "-o", str(instance / "out.zip"))
    assert result.exit_code == 2 and ".mbtiles or .pmtiles" in result.output


def test_export_needs_an_output(instance):
    result = run(instance, "export-tiles", "communes")
    assert result.exit_code == 2 and "-o/--output" in result.output


def test_the_output_as_an_argument_still_works_for_one_release(instance):
    out = instance / "provinces.mbtiles"
    result = run(instance, "export-tiles", "provinces", "--zooms", "6", "--bbox", FIXTURE_BBOX,
                 str(out))
    assert result.exit_code == 0, result.output
    assert "OUTPUT as an argument is deprecated" in result.output and "-o/--output" in result.output
    assert sqlite3.connect(out).execute("SELECT count(*) FROM tiles").fetchone()[0] > 0
    both = run(instance, "export-tiles", "provinces", str(out), "-o", str(instance / "b.mbtiles"))
    assert both.exit_code == 2 and "not also" in both.output


def test_layer_parameters_choose_the_variant_exported(instance):
    out = instance / "rate.mbtiles"
    result = run(instance, "export-tiles", "certification-rate", "--zooms", "6", "--bbox",
                 FIXTURE_BBOX, "--year", "2024", "--group", "schools", "-o", str(out))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(out)
    meta = dict(conn.execute("SELECT name, value FROM metadata"))
    assert meta["name"] == "certification-rate"
    assert "certification_rate_schools" in meta["json"]  # the --group variant's field
    bad = run(instance, "seed-tiles", "certification-rate", "--zooms", "6", "--group", "99")
    assert bad.exit_code == 2 and "group" in bad.output
    assert "layer certification-rate takes: --year, --group" in bad.output
    wrong = run(instance, "seed-tiles", "communes", "--zooms", "6", "--model-type", "x")
    assert wrong.exit_code == 2 and "model_type" in wrong.output
    assert "layer communes takes: --year" in wrong.output


def test_seed_and_export_list_the_layer_parameters():
    for command in ("seed-tiles", "export-tiles"):
        text = CliRunner().invoke(main, [command, "--help"]).output
        for option in ("--year", "--group", "--model-type", "--category", "--period",
                       "--province", "--format"):
            assert option in text, (command, option)
