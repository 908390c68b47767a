#!/usr/bin/env python3
"""Tests of the PDAL plugins readers.copcrs / writers.copcrs, run by ctest (label pdal):

    pdal_tests.py TEST

Each test runs PDAL's own `pdal` tool with PDAL_DRIVER_PATH at our plugins and
compares with a path that does not go through them: PDAL's readers.copc, our CLI
(`copc query --count`), writers.las output of readers.copc, xcheck (independent COPC
verifier and peer readers), or values this script generated with laspy. Exit 77
(skipped) when a test needs COPC_TEST_DATA, COPC_TEST_NGINX_URL or laspy and they
are missing. Environment (from CMake): PDAL, PDAL_DRIVER_PATH, COPC_CLI, XCHECK,
XCHECK_NODE_MODULES, PDAL_TEST_TMP.
"""
import glob
import hashlib
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77
PDAL = os.environ.get("PDAL", "pdal")
COPC_CLI = os.environ.get("COPC_CLI", "copc")
XCHECK = os.environ.get("XCHECK", "")
DATA = os.environ.get("COPC_TEST_DATA", "")
TMP_ROOT = os.environ.get("PDAL_TEST_TMP", tempfile.gettempdir())
COPC_FILES = ["pdal_1.2-with-color", "laspy_simple_with_page", "pdal_lone-star",
              "pdal_ellipsoid-eb", "lastools_example"]


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def need_data():
    if not DATA or not os.path.isdir(DATA):
        print("SKIPPED: set COPC_TEST_DATA to the shared data folder (scripts/ctest does)")
        sys.exit(SKIP)


def need_laspy():
    try:
        import laspy  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        print("SKIPPED: needs python3 laspy + numpy (../shared/tools/install-readers)")
        sys.exit(SKIP)


def run(args, ok=True, timeout=1200, input=None, env=None):
    p = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout,
                       input=input, env=env)
    if p.returncode < 0:
        raise Failed(f"{args[0]} died from signal {-p.returncode}: {' '.join(args)}\n{p.stderr[-2000:]}")
    if ok and p.returncode != 0:
        raise Failed(f"exit {p.returncode}: {' '.join(args)}\n{p.stderr[-2000:]}")
    return p


def tmpdir(name):
    d = os.path.join(TMP_ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def copc_file(name):
    return os.path.join(DATA, name + ".copc.laz")


def pdal_info(path, reader, *opts):
    args = [PDAL, "info", path, "--driver", reader] + list(opts)
    return json.loads(run(args).stdout)


def stats(path, reader, *opts):
    """name -> statistic dict (count, minimum, maximum, average) of `pdal info --stats`."""
    j = pdal_info(path, reader, "--stats", *opts)
    return {s["name"]: s for s in j["stats"]["statistic"]}


def schema(path, reader):
    j = pdal_info(path, reader, "--schema")
    return {d["name"]: (d["type"], d["size"]) for d in j["schema"]["dimensions"]}


def close(a, b, rel=1e-9):
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def same_stats(got, want, what, avg_rel=1e-9):
    check(set(got) == set(want), f"{what}: dimensions {sorted(got)} vs readers.copc {sorted(want)}")
    for name, w in want.items():
        g = got[name]
        check(g["count"] == w["count"], f"{what}: {name} count {g['count']} vs {w['count']}")
        if w["count"] == 0:
            continue
        for k in ("minimum", "maximum"):
            check(g[k] == w[k], f"{what}: {name} {k} {g[k]} vs readers.copc {w[k]}")
        # the two readers visit the nodes in different orders: sums differ in the last bits
        # relative to the values' magnitude: a mean near 0 of large values differs more
        scale = max(abs(w["minimum"]), abs(w["maximum"]), abs(w["average"]))
        check(abs(g["average"] - w["average"]) <= avg_rel * scale,
              f"{what}: {name} average {g['average']} vs readers.copc {w['average']}")


def header_info(path):
    return json.loads(run([COPC_CLI, "info", "--json", path]).stdout)


def bounds_of(path):
    s = pdal_info(path, "readers.copc", "--summary")["summary"]["bounds"]
    return s["minx"], s["maxx"], s["miny"], s["maxy"], s["minz"], s["maxz"]


# ---------------------------------------------------------------- reader

def t_info_files():
    """--summary, --schema and --stats through readers.copcrs equal readers.copc's on
    every valid COPC file of the shared data."""
    need_data()
    for name in COPC_FILES:
        f = copc_file(name)
        a = pdal_info(f, "readers.copcrs", "--summary")["summary"]
        b = pdal_info(f, "readers.copc", "--summary")["summary"]
        check(a["num_points"] == b["num_points"], f"{name}: summary count {a['num_points']} vs {b['num_points']}")
        check(a["bounds"] == b["bounds"], f"{name}: summary bounds {a['bounds']} vs {b['bounds']}")
        check(sorted(a["dimensions"].split(", ")) == sorted(b["dimensions"].split(", ")),
              f"{name}: dimensions {a['dimensions']} vs {b['dimensions']}")
        check(bool(a.get("srs", {}).get("wkt")) == bool(b.get("srs", {}).get("wkt")),
              f"{name}: CRS present {bool(a.get('srs', {}).get('wkt'))} vs readers.copc")
        if b.get("srs", {}).get("horizontal"):
            check(a["srs"]["horizontal"] == b["srs"]["horizontal"], f"{name}: srs differs")
        sa, sb = schema(f, "readers.copcrs"), schema(f, "readers.copc")
        check(sa == sb, f"{name}: schema {sa} vs readers.copc {sb}")
        same_stats(stats(f, "readers.copcrs"), stats(f, "readers.copc"), name)
        # header metadata: the fields readers.copc shows, with the same values
        ma = pdal_info(f, "readers.copcrs", "--metadata")["metadata"]
        mb = pdal_info(f, "readers.copc", "--metadata")["metadata"]
        for k in ("major_version", "minor_version", "dataformat_id", "filesource_id",
                  "global_encoding", "system_id", "software_id", "creation_doy", "creation_year",
                  "scale_x", "scale_y", "scale_z", "offset_x", "offset_y", "offset_z",
                  "minx", "miny", "minz", "maxx", "maxy", "maxz", "count", "point_length",
                  "compressed", "copc", "header_size"):
            check(ma.get(k) == mb.get(k), f"{name}: metadata {k} = {ma.get(k)!r} vs readers.copc {mb.get(k)!r}")
        check(ma["copc_info"] == mb["copc_info"], f"{name}: copc_info {ma['copc_info']} vs {mb['copc_info']}")
        print(f"ok {name}: {a['num_points']} points, {len(sa)} dimensions")


def queries_for(f):
    x0, x1, y0, y1, z0, z1 = bounds_of(f)
    w, h, d = x1 - x0, y1 - y0, z1 - z0
    # boxes and vertices off the points' grid, so no point sits on an edge by accident
    bx = (x0 + 0.3037 * w, x0 + 0.7113 * w, y0 + 0.2071 * h, y0 + 0.6529 * h)
    bz = (z0 - 0.0131 * d, z0 + 0.5117 * d)
    poly = "POLYGON(({0} {1}, {2} {3}, {4} {5}, {0} {1}))".format(
        x0 + 0.1013 * w, y0 + 0.1171 * h, x0 + 0.9017 * w, y0 + 0.3079 * h, x0 + 0.4513 * w, y0 + 0.8831 * h)
    info = header_info(f)
    spacing = info.get("spacing") or info.get("copc", {}).get("spacing")
    check(spacing, f"{f}: no spacing in copc info --json")
    res = spacing / 5.3
    return [
        ("bounds 2-D", [f"--readers.{{r}}.bounds=([{bx[0]},{bx[1]}],[{bx[2]},{bx[3]}])"],
         ["--bounds", f"{bx[0]},{bx[2]},{bx[1]},{bx[3]}"]),
        ("bounds 3-D", [f"--readers.{{r}}.bounds=([{bx[0]},{bx[1]}],[{bx[2]},{bx[3]}],[{bz[0]},{bz[1]}])"],
         ["--bounds", f"{bx[0]},{bx[2]},{bx[1]},{bx[3]},{bz[0]},{bz[1]}"]),
        ("polygon", [f"--readers.{{r}}.polygon={poly}"], ["--polygon", poly]),
        ("resolution", [f"--readers.{{r}}.resolution={res}"], ["--resolution", str(res)]),
        ("resolution + bounds", [f"--readers.{{r}}.resolution={res}",
                                 f"--readers.{{r}}.bounds=([{bx[0]},{bx[1]}],[{bx[2]},{bx[3]}])"],
         ["--resolution", str(res), "--bounds", f"{bx[0]},{bx[2]},{bx[1]},{bx[3]}"]),
    ]


def t_queries():
    """2-D and 3-D bounds, a polygon and a resolution select the same points through
    readers.copcrs as through readers.copc (stats) and our CLI (count)."""
    need_data()
    for name in COPC_FILES:
        f = copc_file(name)
        total = pdal_info(f, "readers.copc", "--summary")["summary"]["num_points"]
        for what, popts, cli in queries_for(f):
            sa = stats(f, "readers.copcrs", *[o.format(r="copcrs") for o in popts])
            sb = stats(f, "readers.copc", *[o.format(r="copc") for o in popts])
            same_stats(sa, sb, f"{name} {what}")
            n = sa["X"]["count"]
            cli_n = int(run([COPC_CLI, "query", f, "--count"] + cli).stdout.strip())
            check(n == cli_n, f"{name} {what}: readers.copcrs {n} points, copc query {cli_n}")
            summary = pdal_info(f, "readers.copcrs", "--summary",
                                *[o.format(r="copcrs") for o in popts])["summary"]["num_points"]
            check(summary == n, f"{name} {what}: --summary says {summary}, the read gave {n}")
            check(0 < n <= total, f"{name} {what}: {n} of {total} points: the query should select some")
            print(f"ok {name} {what}: {n} of {total}")
        # the dims option: only the named dimensions, same values
        sa = stats(f, "readers.copcrs", "--readers.copcrs.dims=X,Y,Intensity")
        sb = stats(f, "readers.copc")
        check(set(sa) == {"X", "Y", "Intensity"}, f"{name}: dims=X,Y,Intensity gave {sorted(sa)}")
        same_stats(sa, {k: sb[k] for k in sa}, f"{name} dims")


def las_records(path):
    """(point format, record length, sorted raw records, scale, offset) of an uncompressed LAS."""
    with open(path, "rb") as fh:
        b = fh.read()
    check(b[:4] == b"LASF", f"{path}: not a LAS file")
    offset = struct.unpack_from("<I", b, 96)[0]
    fmt = b[104] & 0x3F
    rec = struct.unpack_from("<H", b, 105)[0]
    n = struct.unpack_from("<I", b, 107)[0]
    if b[25] >= 4 or n == 0:
        n = struct.unpack_from("<Q", b, 247)[0]
    scale = struct.unpack_from("<3d", b, 131)
    off = struct.unpack_from("<3d", b, 155)
    recs = sorted(b[offset + i * rec: offset + (i + 1) * rec] for i in range(n))
    return fmt, rec, recs, scale, off


def t_las_identical():
    """readers.copcrs -> writers.las gives byte-identical point records (as a multiset:
    the readers visit nodes in different orders) to readers.copc -> writers.las."""
    need_data()
    d = tmpdir("las_identical")
    for name in COPC_FILES:
        f = copc_file(name)
        outs = {}
        for r in ("copcrs", "copc"):
            out = os.path.join(d, f"{name}.{r}.las")
            pipe = [{"type": f"readers.{r}", "filename": f},
                    {"type": "writers.las", "filename": out, "forward": "all", "extra_dims": "all"}]
            p = os.path.join(d, f"{name}.{r}.json")
            with open(p, "w") as fh:
                json.dump(pipe, fh)
            run([PDAL, "pipeline", p, "--nostream"])  # pdal prefers streaming otherwise
            outs[r] = las_records(out)
        a, b = outs["copcrs"], outs["copc"]
        check(a[:2] == b[:2], f"{name}: format/record length {a[:2]} vs readers.copc {b[:2]}")
        check(a[3:] == b[3:], f"{name}: scale/offset {a[3:]} vs {b[3:]}")
        check(len(a[2]) == len(b[2]), f"{name}: {len(a[2])} records vs {len(b[2])}")
        if a[2] != b[2]:
            diff = next(i for i in range(len(a[2])) if a[2][i] != b[2][i])
            byte = next(k for k in range(a[1]) if a[2][diff][k] != b[2][diff][k])
            raise Failed(f"{name}: sorted record {diff} differs from byte {byte} on "
                         f"(record layout of format {a[0]})")
        # the same in streaming mode
        out = os.path.join(d, f"{name}.stream.las")
        run([PDAL, "translate", f, out, "--reader", "readers.copcrs", "--stream",
             "--writers.las.forward=all", "--writers.las.extra_dims=all"])
        check(las_records(out)[2] == b[2], f"{name}: --stream records differ from readers.copc's")
        print(f"ok {name}: {len(a[2])} records of {a[1]} bytes identical")


def t_standard_bulk():
    """Standard mode copies whole columns into PDAL's columnar table: on 150 k points
    (several batches, table blocks and copy runs, batch sizes that do not divide
    them) and with two readers filling one table (the second one's points are not at
    table row 0), readers.copcrs -> writers.las gives readers.copc's records."""
    d = tmpdir("standard_bulk")
    f = sample_copc(d, 150_000)

    def records(reader, count, **opts):
        out = os.path.join(d, f"{reader}.{count}.{'_'.join(map(str, opts.values())) or 'x'}.las")
        stage = {"type": reader, "filename": f, **opts}
        pipe = [dict(stage, tag=f"r{i}") for i in range(count)]
        pipe.append({"type": "writers.las", "filename": out, "forward": "all", "extra_dims": "all",
                     "inputs": [f"r{i}" for i in range(count)]})
        p = out + ".json"
        with open(p, "w") as fh:
            json.dump(pipe, fh)
        run([PDAL, "pipeline", p, "--nostream"])
        return las_records(out)

    for count in (1, 2):
        want = records("readers.copc", count)
        check(len(want[2]) == 150_000 * count, f"readers.copc gave {len(want[2])} records")
        for batch in (65536, 1000, 7):
            got = records("readers.copcrs", count, batch=batch)
            check(got[:2] == want[:2] and got[3:] == want[3:], f"{count} readers, batch {batch}: header differs")
            check(got[2] == want[2], f"{count} readers, batch {batch}: records differ from readers.copc's")
            print(f"ok {count} reader(s), batch {batch}: {len(got[2])} records identical")


# ---------------------------------------------------------------- writer

# xcheck failures (under --strict) that come from the input or from PDAL, not from
# writers.copcrs; the first four as in tests/writer.rs for our CLI's writer.
def allowed(name, check_name, input_has_crs, input_eb):
    if check_name == "crs.wkt":
        return not input_has_crs  # a COPC file can only carry the CRS its input had
    if check_name == "points.present":
        return name in ("pdal_no-points.las", "lazperf_no-points-1.3.laz")
    if check_name == "points.gpstime_finite":
        return name == "pdal_gps-time-nan.las"
    if check_name in ("eb.vlr", "peer.copcjs_hierarchy", "peer.copcjs_info", "peer.copcjs_points"):
        return name == "laspy_extrabytes.las"  # deprecated array types in the input
    # PDAL hands arrays over as one dimension per element (name0, name1, ...) and scaled
    # extra bytes as doubles: values survive (t_extra_bytes checks), raw fields differ.
    if check_name in ("compare.fields_kept", "compare.multiset", "compare.no_invented_fields"):
        return input_eb == "arrays-or-scaled"
    return False


def input_facts(path):
    """(has a CRS as PDAL sees it, extra-bytes kind) of a LAS/LAZ input, from readers.las
    (the extra-bytes VLR parsed here: 192-byte descriptors, data type at byte 2,
    options at 3; types 11-30 are arrays, options 8/16 a scale/offset)."""
    j = pdal_info(path, "readers.las", "--metadata")["metadata"]
    has_crs = bool(j.get("srs", {}).get("wkt") or j.get("spatialreference") or j.get("comp_spatialreference"))
    eb = "none"
    for k, v in j.items():
        if not (k.startswith("vlr_") and isinstance(v, dict)):
            continue
        if v.get("user_id") != "LASF_Spec" or int(v.get("record_id", -1)) != 4:
            continue
        import base64
        data = base64.b64decode(v.get("data", ""))
        for o in range(0, len(data) - 191, 192):
            dt, opts = data[o + 2], data[o + 3]
            if dt == 0:
                continue
            eb = "arrays-or-scaled" if (dt > 10 or opts & 24) else (eb if eb != "none" else "plain")
            if eb == "arrays-or-scaled":
                break
    return has_crs, eb


def xcheck(out, inp, name, has_crs, eb):
    p = run([sys.executable, XCHECK, out, "--strict", "--json", "--compare", inp], ok=False)
    try:
        report = json.loads(p.stdout)
    except json.JSONDecodeError:
        raise Failed(f"{name}: xcheck gave no JSON: {p.stderr[-1000:]}")
    bad = [f"{c['name']}: {c.get('detail', '')}" for c in report.get("checks", [])
           if c["status"] == "FAIL" and not allowed(name, c["name"], has_crs, eb)]
    return bad


def standard_fields_differ(out, inp):
    """[] when OUT holds INP's points over the standard LAS fields (X/Y/Z on OUT's grid)."""
    import laspy
    import numpy as np
    a, b = laspy.read(out), laspy.read(inp)
    if len(a.points) != len(b.points):
        return [f"standard fields: {len(a.points)} points vs {len(b.points)}"]
    common = [f for f in ("intensity", "return_number", "number_of_returns", "classification",
                          "user_data", "point_source_id", "gps_time", "red", "green", "blue")
              if f in a.point_format.dimension_names and f in b.point_format.dimension_names]

    def rows(las, grid):
        cols = [np.round((np.asarray(getattr(las, c)) - grid.offsets[i]) / grid.scales[i]).astype(np.int64)
                for i, c in enumerate("xyz")]
        for f in common:
            v = np.asarray(las.points[f])
            cols.append(v.astype(np.float64).view(np.int64) if v.dtype.kind == "f" else v.astype(np.int64))
        m = np.stack(cols, axis=1)
        return m[np.lexsort(m.T[::-1])]
    ra, rb = rows(a, a.header), rows(b, a.header)
    if ra.shape != rb.shape or not np.array_equal(ra, rb):
        return ["standard fields: the point multisets differ"]
    return []


def translate_all(stream):
    need_data()
    check(XCHECK and os.path.exists(XCHECK), f"xcheck not found at {XCHECK!r}")
    need_laspy()
    d = tmpdir("translate_stream" if stream else "translate")
    inputs = sorted(p for p in glob.glob(os.path.join(DATA, "*.la[sz]")) if not p.endswith(".copc.laz"))
    check(len(inputs) >= 20, f"expected the shared LAS/LAZ files in {DATA}")
    problems, done, unread = [], 0, []
    for inp in inputs:
        name = os.path.basename(inp)
        # inputs PDAL's own readers.las cannot read are not the writer's business (it
        # hangs on pdal_laszip-v1.2r0-pointwise.laz: hence a full read with a timeout)
        try:
            if run([PDAL, "info", "--stats", "--driver", "readers.las", inp], ok=False,
                   timeout=120).returncode != 0:
                unread.append(name)
                continue
        except subprocess.TimeoutExpired:
            unread.append(name + " (readers.las hangs)")
            continue
        out = os.path.join(d, name + ".copc.laz")
        # pdal translate streams when every stage can: --nostream for the standard mode
        args = [PDAL, "translate", inp, out, "--writer", "writers.copcrs",
                "--stream" if stream else "--nostream"]
        p = run(args, ok=False)
        if p.returncode != 0:
            problems.append(f"{name}: pdal translate failed: {p.stderr.strip()[-500:]}")
            continue
        has_crs, eb = input_facts(inp)
        bad = xcheck(out, inp, name, has_crs, eb)
        if eb == "arrays-or-scaled":
            # xcheck's multiset is allowed to fail on the raw extra-bytes fields: compare
            # every standard field here instead
            bad += standard_fields_differ(out, inp)
        problems += [f"{name}: {b}" for b in bad]
        done += 1
        print(f"{'FAIL' if bad else 'ok'} {name}" + (f" ({len(bad)} failed checks)" if bad else ""))
    print(f"{done} translated and checked; PDAL cannot read: {', '.join(unread) or 'none'}")
    check(done >= 20, f"only {done} inputs translated")
    check(not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems))


def t_translate():
    """pdal translate IN OUT.copc.laz --writer writers.copcrs on every shared LAS/LAZ
    input: xcheck --strict --compare IN passes (allowances above)."""
    translate_all(False)


def t_translate_stream():
    """The same with --stream."""
    translate_all(True)


def t_writer_views():
    """Standard mode with views whose points are not the table's rows in order
    (filters.sort reorders them, filters.range drops some): writers.copcrs writes the
    view's points, the same multiset as writers.las writes from the same pipeline."""
    need_data()
    need_laspy()
    d = tmpdir("writer_views")
    inp = os.path.join(DATA, "pdal_lone-star-source.laz")
    for name, filt in (("sort", {"type": "filters.sort", "dimension": "X"}),
                       ("range", {"type": "filters.range", "limits": "Intensity[0:300]"})):
        outs = {}
        # writers.las at the input's scale (its default is 0.01), as writers.copcrs takes it
        for writer, ext, opts in (("writers.copcrs", "copc.laz", {}),
                                  ("writers.las", "las", {"forward": "all", "minor_version": 4})):
            out = os.path.join(d, f"{name}.{ext}")
            p = os.path.join(d, f"{name}.{writer}.json")
            with open(p, "w") as fh:
                json.dump([inp, filt, {"type": writer, "filename": out, **opts}], fh)
            run([PDAL, "pipeline", p, "--nostream"])
            outs[writer] = out
        bad = standard_fields_differ(outs["writers.copcrs"], outs["writers.las"])
        check(not bad, f"{name}: writers.copcrs vs writers.las: {bad}")
        n = header_info(outs["writers.copcrs"])["point_count"]
        print(f"ok {name}: {n} points, the same as writers.las")


def sorted_rows(las, names):
    import numpy as np
    cols = [np.asarray(las.points.array[n]) for n in names]
    cols = [c.astype(np.float64).view(np.int64) if c.dtype.kind == "f" else c.astype(np.int64) for c in cols]
    a = np.stack(cols, axis=1)
    return a[np.lexsort(a.T[::-1])]


def t_extra_bytes():
    """Typed extra bytes (generated with laspy, and pdal_ellipsoid-eb's) survive
    writers.copcrs with their names, types and values, in standard and --stream mode."""
    need_laspy()
    import laspy
    import numpy as np
    d = tmpdir("extra_bytes")
    rng = np.random.default_rng(7)
    n = 5000
    las = laspy.create(point_format=6, file_version="1.4")
    types = {"u8": np.uint8, "i8": np.int8, "u16": np.uint16, "i16": np.int16, "u32": np.uint32,
             "i32": np.int32, "u64": np.uint64, "i64": np.int64, "f32": np.float32, "f64": np.float64}
    las.add_extra_dims([laspy.ExtraBytesParams(name=k, type=t) for k, t in types.items()])
    las.header.scales = [0.01, 0.01, 0.01]
    las.header.offsets = [1000, 2000, 0]
    las.x = 1000 + rng.uniform(0, 500, n)
    las.y = 2000 + rng.uniform(0, 500, n)
    las.z = rng.uniform(0, 50, n)
    las.intensity = rng.integers(0, 65535, n)
    las.gps_time = rng.uniform(0, 1e6, n)
    for k, t in types.items():
        if np.dtype(t).kind == "f":
            las[k] = rng.normal(0, 1e3, n).astype(t)
        else:
            info = np.iinfo(t)
            las[k] = rng.integers(max(info.min, -2**62), min(info.max, 2**62), n, dtype=np.int64).astype(t)
    inp = os.path.join(d, "typed.las")
    las.write(inp)
    cases = [(inp, list(types)), ]
    if DATA and os.path.isdir(DATA):
        cases.append((copc_file("pdal_ellipsoid-eb"), None))
    for src, names in cases:
        a = laspy.read(src)
        ebs = list(a.point_format.extra_dimension_names)
        check(ebs, f"{src}: no extra bytes to test with")
        for stream in (False, True):
            out = os.path.join(d, os.path.basename(src) + (".stream" if stream else "") + ".copc.laz")
            args = [PDAL, "translate", src, out, "--writer", "writers.copcrs"]
            if src.endswith(".copc.laz"):
                args += ["--reader", "readers.copcrs"]
            args.append("--stream" if stream else "--nostream")
            run(args)
            b = laspy.read(out)
            got = list(b.point_format.extra_dimension_names)
            check(got == ebs, f"{out}: extra dims {got} vs input {ebs}")
            for e in ebs:
                ta, tb = a.points.array[e].dtype, b.points.array[e].dtype
                check(ta == tb, f"{out}: extra dim {e} has type {tb}, the input {ta}")
            fields = ["X", "Y", "Z"] + ebs
            check(np.array_equal(sorted_rows(a, fields), sorted_rows(b, fields)),
                  f"{out}: X/Y/Z + extra-bytes values differ from the input's")
            print(f"ok {os.path.basename(out)}: {len(b.points)} points, extra dims {got}")
    # readers.copcrs shows them with their types (readers.copc as the reference)
    if DATA and os.path.isdir(DATA):
        f = copc_file("pdal_ellipsoid-eb")
        check(schema(f, "readers.copcrs") == schema(f, "readers.copc"), "ellipsoid-eb schema differs")


def t_writer_options():
    """scale/offset (numbers, auto, forwarded), a_srs, memory_limit + temp_dir (spill),
    threads, dataformat_id and extra_dims lists, checked with our CLI's info and xcheck."""
    need_data()
    need_laspy()
    import laspy
    d = tmpdir("writer_options")
    inp = os.path.join(DATA, "pdal_autzen-utm.las")  # PDRF 3, with a CRS
    src = laspy.read(inp)
    def translate(out, *opts, stream=False):
        args = [PDAL, "translate", inp, out, "--writer", "writers.copcrs"] + list(opts)
        args.append("--stream" if stream else "--nostream")
        run(args)
        return header_info(out)

    out = os.path.join(d, "default.copc.laz")
    h = translate(out)
    check(list(laspy.read(out).header.scales) == list(src.header.scales), "default: input scale not kept")
    check(list(laspy.read(out).header.offsets) == list(src.header.offsets), "default: input offset not kept")
    check(laspy.read(out).header.point_format.id == 7, "PDRF 3 input should give PDRF 7")

    out = os.path.join(d, "scaled.copc.laz")
    translate(out, "--writers.copcrs.scale_x=0.05", "--writers.copcrs.scale_y=0.05",
              "--writers.copcrs.scale_z=0.02", "--writers.copcrs.offset_x=630000",
              "--writers.copcrs.offset_y=840000", "--writers.copcrs.offset_z=0")
    hb = laspy.read(out).header
    check(list(hb.scales) == [0.05, 0.05, 0.02], f"scale options gave {list(hb.scales)}")
    check(list(hb.offsets) == [630000, 840000, 0], f"offset options gave {list(hb.offsets)}")

    out = os.path.join(d, "auto.copc.laz")
    translate(out, "--writers.copcrs.offset_x=auto", "--writers.copcrs.offset_y=auto",
              "--writers.copcrs.offset_z=auto", "--writers.copcrs.scale_x=0.01",
              "--writers.copcrs.scale_y=0.01", "--writers.copcrs.scale_z=0.01")
    hb = laspy.read(out).header
    check(list(hb.offsets) != list(src.header.offsets), "offset auto kept the input's offset")

    out = os.path.join(d, "srs.copc.laz")
    translate(out, "--writers.copcrs.a_srs=EPSG:4326")
    wkt = pdal_info(out, "readers.copc", "--summary")["summary"]["srs"]["wkt"]
    check("4326" in wkt or "WGS 84" in wkt, f"a_srs EPSG:4326 gave {wkt[:200]}")

    spill = tmpdir("writer_options_spill")
    out = os.path.join(d, "spill.copc.laz")
    # just above the writer's floor for 100-point leaves (74 MiB: its fixed buffers), so
    # the 1065 points spill to temp_dir
    translate(out, "--writers.copcrs.memory_limit=76731000", f"--writers.copcrs.temp_dir={spill}",
              "--writers.copcrs.threads=1", "--writers.copcrs.max_points_per_node=100", stream=True)
    bad = xcheck(out, inp, "pdal_autzen-utm.las", True, "none")
    check(not bad, "spilled write: " + "; ".join(bad))
    check(not os.listdir(spill), f"temp_dir not cleaned: {os.listdir(spill)}")

    out = os.path.join(d, "fmt8.copc.laz")
    translate(out, "--writers.copcrs.dataformat_id=8")
    check(laspy.read(out).header.point_format.id == 8, "dataformat_id=8 not applied")

    # extra_dims list with a type, and none
    out = os.path.join(d, "eb.copc.laz")
    run([PDAL, "translate", inp, out, "filters.ferry", "--filters.ferry.dimensions=Intensity=>Copy",
         "--writer", "writers.copcrs", "--writers.copcrs.extra_dims=Copy=uint16"])
    b = laspy.read(out)
    check(list(b.point_format.extra_dimension_names) == ["Copy"], "extra_dims=Copy=uint16 not written")
    check(str(b.points.array["Copy"].dtype) == "uint16", f"Copy is {b.points.array['Copy'].dtype}")
    check(sorted(b.points.array["Copy"].tolist()) == sorted(src.intensity.tolist()), "Copy values differ")
    out = os.path.join(d, "noeb.copc.laz")
    run([PDAL, "translate", inp, out, "filters.ferry", "--filters.ferry.dimensions=Intensity=>Copy",
         "--writer", "writers.copcrs", "--writers.copcrs.extra_dims=none"])
    check(not list(laspy.read(out).point_format.extra_dimension_names), "extra_dims=none wrote extra bytes")
    print("ok writer options")


# ---------------------------------------------------------------- streaming memory

def sample_copc(d, n):
    out = os.path.join(d, f"sample_{n}.copc.laz")
    if os.path.exists(out):
        return out
    laz = os.path.join(d, f"sample_{n}.laz")
    run([COPC_CLI, "sample", laz, "--points", str(n), "--format", "6", "--seed", "1"])
    run([COPC_CLI, "translate", laz, out + ".tmp.copc.laz", "--threads", "2"])
    os.rename(out + ".tmp.copc.laz", out)
    os.remove(laz)
    return out


def peak_rss_mb(args):
    p = run(["/usr/bin/time", "-v"] + args)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    check(m, "no RSS from /usr/bin/time -v")
    return int(m.group(1)) / 1024.0, p


def t_stream_rss():
    """Streaming read of 5 M and 20 M generated points through readers.copcrs into
    writers.null: peak RSS under a fixed bound that does not grow with the size."""
    check(os.path.exists("/usr/bin/time"), "/usr/bin/time missing (apt-get install time)")
    d = os.path.join(TMP_ROOT, "stream_rss")
    os.makedirs(d, exist_ok=True)
    rss = {}
    for n in (5_000_000, 20_000_000):
        f = sample_copc(d, n)
        pipe = os.path.join(d, f"read_{n}.json")
        with open(pipe, "w") as fh:
            json.dump([{"type": "readers.copcrs", "filename": f}, {"type": "writers.null"}], fh)
        mb, p = peak_rss_mb([PDAL, "pipeline", pipe, "--stream", "--metadata", os.path.join(d, "m.json")])
        rss[n] = mb
        # the stream really went through every point
        s = stats(f, "readers.copcrs", "--readers.copcrs.dims=X")
        check(s["X"]["count"] == n, f"{n}: {s['X']['count']} points read")
        print(f"{n} points: peak RSS {mb:.0f} MB")
    bound = 200.0  # measured 90 MB at both sizes (PDAL + GDAL + PROJ loaded: ~60 MB)
    check(rss[20_000_000] < bound, f"20 M points streamed with {rss[20_000_000]:.0f} MB > {bound} MB")
    check(rss[20_000_000] < rss[5_000_000] + 48,
          f"RSS grows with size: {rss[5_000_000]:.0f} MB at 5 M, {rss[20_000_000]:.0f} MB at 20 M")


# ---------------------------------------------------------------- HTTP, errors

def t_http():
    """readers.copcrs on an http:// URL (nginx) gives the local read's statistics, with
    and without a box, and sends custom headers."""
    need_data()
    url = os.environ.get("COPC_TEST_NGINX_URL", "")
    if not url:
        print("SKIPPED: no COPC_TEST_NGINX_URL (scripts/ctest starts nginx)")
        sys.exit(SKIP)
    for name in COPC_FILES:
        f = copc_file(name)
        u = url.rstrip("/") + "/" + os.path.basename(f)
        same_stats(stats(u, "readers.copcrs", "--readers.copcrs.header=X-Test: 1",
                         "--readers.copcrs.requests=4"),
                   stats(f, "readers.copcrs"), f"{name} over HTTP", avg_rel=0)
        what, popts, _ = queries_for(f)[0]
        same_stats(stats(u, "readers.copcrs", *[o.format(r="copcrs") for o in popts]),
                   stats(f, "readers.copc", *[o.format(r="copc") for o in popts]), f"{name} HTTP {what}")
        print(f"ok {u}")
    p = run([PDAL, "info", url.rstrip("/") + "/no-such.copc.laz", "--driver", "readers.copcrs"], ok=False)
    check(p.returncode != 0 and "no-such.copc.laz" in p.stderr, f"missing URL: {p.stderr[-300:]}")


def pipeline_stats(filename, reader, timeout=300):
    """name -> statistic dict of filters.stats after `reader` on `filename`, through
    `pdal pipeline` (not `pdal info`: at its end `pdal info` asks PDAL's arbiter for the
    size of any URL, over https and virtual-hosted, which against an http:// S3 endpoint
    fails and is retried for minutes; see pdal/README.md, Limits)."""
    d = tmpdir("pipeline-stats")
    meta = os.path.join(d, "meta.json")
    spec = json.dumps({"pipeline": [{"type": reader, "filename": filename}, {"type": "filters.stats"},
                                    {"type": "writers.null"}]})
    run([PDAL, "pipeline", "--stdin", "--metadata", meta], timeout=timeout, input=spec)
    with open(meta) as fh:
        stages = json.load(fh)["stages"]
    return {s["name"]: s for s in stages["filters.stats"]["statistic"]}


def t_s3():
    """readers.copcrs on an s3:// URL (s3s-fs, SigV4 checked; started by
    cpp-tests/scripts/with_s3.sh with COPC_S3_FILE in bucket copc-test): the statistics
    of readers.copc on the local file; credentials from AWS_* variables, the endpoint
    from AWS_ENDPOINT_URL. A missing key and a wrong secret are errors naming the URL,
    without the secret."""
    need_data()
    endpoint = os.environ.get("COPC_TEST_S3_ENDPOINT", "")
    check(endpoint, "no COPC_TEST_S3_ENDPOINT: run this test through cpp-tests/scripts/with_s3.sh")
    name = os.environ["COPC_S3_FILE"]
    # no real ~/.aws, no instance metadata: nothing leaves loopback
    os.environ.update({"AWS_ACCESS_KEY_ID": os.environ["COPC_TEST_S3_KEY"],
                       "AWS_SECRET_ACCESS_KEY": os.environ["COPC_TEST_S3_SECRET"],
                       "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                       "HOME": tmpdir("s3-home")})
    local = os.path.join(DATA, name)
    url = "s3://copc-test/" + name
    got, want = pipeline_stats(url, "readers.copcrs"), pipeline_stats(local, "readers.copc")
    check(want["X"]["count"] > 0, f"{local}: no points")
    same_stats(got, want, f"{name} over S3")
    print(f"ok {url}: {got['X']['count']} points, statistics of readers.copc on the local file")
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    for what, target, env in [("missing key", "s3://copc-test/no-such.copc.laz", {}),
                              ("wrong secret", url, {"AWS_SECRET_ACCESS_KEY": "not-the-secret"})]:
        spec = json.dumps([{"type": "readers.copcrs", "filename": target}, {"type": "writers.null"}])
        p = run([PDAL, "pipeline", "--stdin"], ok=False, timeout=120, input=spec, env={**os.environ, **env})
        err = p.stderr + p.stdout
        check(p.returncode != 0 and target in err, f"{what}: exit {p.returncode}: {err[-300:]}")
        check(secret not in err and "not-the-secret" not in err, f"{what}: a secret in the error")
        print(f"ok {what}: {err.strip().splitlines()[-1][:160]}")


def expect_error(args, must_name, what):
    p = run(args, ok=False)
    err = p.stderr + p.stdout
    check(p.returncode != 0, f"{what}: pdal succeeded")
    check(p.returncode not in (134, 139), f"{what}: pdal crashed (exit {p.returncode})")
    check("terminate called" not in err and "Aborted" not in err, f"{what}: abort: {err[-400:]}")
    check(must_name in err, f"{what}: the error does not name {must_name}: {err.strip()[-400:]}")
    print(f"ok {what}: {err.strip().splitlines()[-1][:160]}")


def t_malformed():
    """A malformed COPC file, a missing file and bad option values give a PDAL error that
    names the file: no crash, no abort."""
    need_data()
    d = tmpdir("malformed")
    good = copc_file("pdal_lone-star")
    with open(good, "rb") as fh:
        data = fh.read()
    trunc = os.path.join(d, "truncated.copc.laz")
    with open(trunc, "wb") as fh:
        fh.write(data[:1000])
    garbled = os.path.join(d, "garbled.copc.laz")
    b = bytearray(data)
    # overwrite the middle of the point data: chunks no longer decode
    mid = len(b) // 2
    b[mid:mid + 4096] = bytes((i * 37) & 0xFF for i in range(4096))
    with open(garbled, "wb") as fh:
        fh.write(bytes(b))
    notcopc = os.path.join(DATA, "pdal_autzen-utm.las")
    missing = os.path.join(d, "missing.copc.laz")
    info = [PDAL, "info", "--driver", "readers.copcrs"]
    expect_error(info + [trunc, "--stats"], "truncated.copc.laz", "truncated file")
    expect_error(info + [garbled, "--stats"], "garbled.copc.laz", "garbled chunks")
    expect_error([PDAL, "translate", garbled, os.path.join(d, "o.las"), "--reader", "readers.copcrs",
                  "--stream"], "garbled.copc.laz", "garbled chunks, streaming")
    expect_error(info + [notcopc], "pdal_autzen-utm.las", "a LAS file that is not COPC")
    expect_error(info + [missing], "missing.copc.laz", "missing file")
    expect_error(info + [good, "--readers.copcrs.resolution=-1"], "pdal_lone-star", "resolution -1")
    expect_error(info + [good, "--readers.copcrs.dims=X,Nope"], "Nope", "unknown dimension")
    expect_error(info + [good, "--readers.copcrs.polygon=POLYGON((1 2, 3"], "pdal_lone-star", "bad polygon")
    expect_error(info + [good, "--readers.copcrs.threads=-3"], "pdal_lone-star", "threads -3")
    w = [PDAL, "translate", good, os.path.join(d, "w.copc.laz"), "--writer", "writers.copcrs"]
    expect_error(w + ["--writers.copcrs.scale_x=abc"], "w.copc.laz", "writer scale abc")
    expect_error(w + ["--writers.copcrs.memory_limit=lots"], "w.copc.laz", "writer memory_limit")
    expect_error(w + ["--writers.copcrs.extra_dims=Nope"], "Nope", "writer extra dim not in the points")
    expect_error([PDAL, "translate", good, os.path.join(d, "no", "dir", "w.copc.laz"), "--writer",
                  "writers.copcrs"], "w.copc.laz", "writer into a missing folder")
    check(not os.path.exists(os.path.join(d, "w.copc.laz")), "a failed write left a file")
    # PDAL's own readers.copc still works beside ours
    run([PDAL, "info", good, "--driver", "readers.copc", "--summary"])


# ---------------------------------------------------------------- header fields, VLRs

HEADER_FIELDS = ("filesource_id", "global_encoding", "project_id", "system_id", "software_id",
                 "creation_doy", "creation_year")


def forwardable(v):
    """A VLR PDAL's readers put into lasforward (io/private/las/Utils.cpp, addVlrMetadata):
    not the CRS, LAZ, liblas or COPC records, of LASF_Spec only 0 and 3."""
    user, rid = v.get("user_id"), int(v.get("record_id", -1))
    if user in ("LASF_Projection", "laszip encoded", "liblas", "copc"):
        return False
    return user != "LASF_Spec" or rid in (0, 3)


def las_header(path, reader):
    """(header fields, sorted forwardable VLRs as (user_id, record_id, description, base64
    data)) as PDAL's own reader shows them in `pdal info --metadata`."""
    j = pdal_info(path, reader, "--metadata")["metadata"]
    fields = {k: j.get(k) for k in HEADER_FIELDS}
    vlrs = sorted((v["user_id"], int(v["record_id"]), v.get("description", ""), v.get("data", ""))
                  for k, v in j.items() if k.startswith("vlr_") and isinstance(v, dict) and forwardable(v))
    return fields, vlrs


def t_forward():
    """forward=all keeps the input's file source id, GUID, system/software id, creation
    date, GPS bit and user VLRs (as PDAL's readers.las / readers.copc show them, read back
    with readers.copc); options set them and win over forward; bad values are PDAL
    errors naming the option."""
    need_data()
    import datetime
    d = tmpdir("forward")
    w = ["--writer", "writers.copcrs"]

    def translate(inp, out, *opts, reader=None):
        args = [PDAL, "translate", inp, out] + w + list(opts)
        if reader:
            args += ["--reader", reader]
        run(args)
        return las_header(out, "readers.copc")

    # LAS 1.4 with eight LeicaGeo VLRs (one of 20480 bytes) and GPS bit; LAS 1.2 with a GUID
    for name, reader in (("lasr_las14_pdrf6.laz", "readers.las"), ("pdal_perm_1.2_2.las", "readers.las")):
        inp = os.path.join(DATA, name)
        want, want_vlrs = las_header(inp, reader)
        got, got_vlrs = translate(inp, os.path.join(d, name + ".copc.laz"), "--writers.copcrs.forward=all")
        for k in HEADER_FIELDS:
            w_val = want[k]
            if k == "global_encoding":
                w_val = (int(w_val or 0) & 0x11) | 16  # COPC: WKT bit set, GPS bit kept
                check(int(got[k]) == w_val, f"{name}: {k} {got[k]} vs {w_val}")
                continue
            check(str(got[k]) == str(w_val), f"{name}: {k} {got[k]!r} vs the input's {w_val!r}")
        check(got_vlrs == want_vlrs,
              f"{name}: VLRs {[v[:3] for v in got_vlrs]} vs the input's {[v[:3] for v in want_vlrs]}")
        print(f"ok forward=all {name}: {len(got_vlrs)} VLRs, project_id {got['project_id']}")
    check(any(v[0] == "LeicaGeo" for v in las_header(os.path.join(d, "lasr_las14_pdrf6.laz.copc.laz"),
                                                       "readers.copc")[1]), "no LeicaGeo VLR forwarded")

    # options win over forward; without forward: PDAL's writers' defaults, no VLRs
    inp = os.path.join(DATA, "lasr_las14_pdrf6.laz")
    guid = "0E5F4C53-2C5D-4D26-9F0B-6A1A1F0B2C3D"
    set_opts = {"filesource_id": "4711", "global_encoding": "0", "project_id": guid,
                "system_id": "copcrs test", "software_id": "copcrs test software",
                "creation_doy": "45", "creation_year": "2019"}
    opt_out = os.path.join(d, "options.copc.laz")
    got, got_vlrs = translate(inp, opt_out, "--writers.copcrs.forward=all",
                              *[f"--writers.copcrs.{k}={v}" for k, v in set_opts.items()])
    want = dict(set_opts, global_encoding="16")
    for k in HEADER_FIELDS:
        check(str(got[k]) == want[k], f"options: {k} {got[k]!r} vs {want[k]!r}")
    check(any(v[0] == "LeicaGeo" for v in got_vlrs), "options + forward=all: VLRs not forwarded")
    got, got_vlrs = translate(inp, os.path.join(d, "default.copc.laz"))
    today = datetime.datetime.now(datetime.timezone.utc)
    check(got["system_id"] == "PDAL" and int(got["filesource_id"]) == 0, f"defaults: {got}")
    check(int(got["creation_year"]) == today.year and int(got["creation_doy"]) == today.timetuple().tm_yday,
          f"default creation date {got['creation_doy']}/{got['creation_year']}, not today")
    check(got["project_id"] == "00000000-0000-0000-0000-000000000000", f"default GUID {got['project_id']}")
    check(not got_vlrs, f"VLRs written without forward: {[v[:3] for v in got_vlrs]}")
    # forward from readers.copcrs (our reader: no GUID in its metadata) and readers.copc
    for reader in ("readers.copcrs", "readers.copc"):
        got, got_vlrs = translate(opt_out, os.path.join(d, f"again_{reader}.copc.laz"),
                                  "--writers.copcrs.forward=header,vlr", reader=reader)
        for k in HEADER_FIELDS:
            if k == "project_id" and reader == "readers.copcrs":
                continue
            check(str(got[k]) == want[k], f"forward from {reader}: {k} {got[k]!r} vs {want[k]!r}")
        check(any(v[0] == "LeicaGeo" for v in got_vlrs), f"forward from {reader}: VLRs lost")
        print(f"ok forward=header,vlr from {reader}")

    # bad values: PDAL errors naming the option, nothing written
    bad_out = os.path.join(d, "bad.copc.laz")
    base = [PDAL, "translate", inp, bad_out] + w
    expect_error(base + ["--writers.copcrs.project_id=0E5F4C53-2C5D-4D26-9F0B"], "project_id", "bad GUID")
    expect_error(base + ["--writers.copcrs.system_id=" + "x" * 33], "system_id", "system_id of 33 bytes")
    expect_error(base + ["--writers.copcrs.creation_doy=367"], "creation_doy", "creation_doy 367")
    expect_error(base + ["--writers.copcrs.global_encoding=2"], "global_encoding", "global_encoding 2")
    check(not os.path.exists(bad_out), "a refused option left a file")


TESTS = {name[2:]: fn for name, fn in globals().items() if name.startswith("t_")}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in TESTS:
        print("usage: pdal_tests.py " + "|".join(TESTS))
        sys.exit(2)
    os.makedirs(TMP_ROOT, exist_ok=True)
    try:
        TESTS[sys.argv[1]]()
    except Failed as e:
        print(f"FAILED: {e}")
        sys.exit(1)
    print(f"PASSED {sys.argv[1]}")
