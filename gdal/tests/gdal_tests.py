#!/usr/bin/python3
"""Tests of the GDAL plugin ogr_COPC.so, run by ctest (label gdal):

    gdal_tests.py TEST

Each test runs GDAL's own tools (ogrinfo, ogr2ogr; the Python bindings in
`python_openex`) with GDAL_DRIVER_PATH at the plugin, and compares what they print
with an independent path: our CLI (`copc info --json`, `copc query --csv`), a
brute-force filter in this script, or values this script generated. Exit 77
(skipped) when a test needs COPC_TEST_DATA or COPC_TEST_NGINX_URL and they are not
set. Environment (from CMake): OGRINFO, OGR2OGR, COPC_CLI, GDAL_DRIVER_PATH.
"""
import csv
import glob
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

SKIP = 77
OGRINFO = os.environ.get("OGRINFO", "ogrinfo")
OGR2OGR = os.environ.get("OGR2OGR", "ogr2ogr")
COPC_CLI = os.environ.get("COPC_CLI", "copc")
DATA = os.environ.get("COPC_TEST_DATA", "")


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def need_data():
    if not DATA or not os.path.isdir(DATA):
        print("SKIPPED: set COPC_TEST_DATA to the shared data folder (scripts/ctest does)")
        sys.exit(SKIP)


def run(args, ok=True, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(args, capture_output=True, text=True, env=e)
    if p.returncode < 0:
        raise Failed(f"{args[0]} died from signal {-p.returncode}: {' '.join(args)}\n{p.stderr[-2000:]}")
    if ok and p.returncode != 0:
        raise Failed(f"exit {p.returncode}: {' '.join(args)}\n{p.stderr[-2000:]}")
    return p


def copc_info(path):
    return json.loads(run([COPC_CLI, "info", "--json", path]).stdout)


def norm(v):
    """A value as printed by either tool, compared at 12 significant digits (GDAL
    prints reals with %.15g, our CLI the shortest exact form)."""
    try:
        f = float(v)
    except ValueError:
        return v
    if f == int(f) and abs(f) < 2**53:
        return int(f)
    return float("%.12g" % f)


def read_csv_text(text):
    rows = list(csv.reader(io.StringIO(text)))
    check(rows, "no CSV header")
    return [h.lower() for h in rows[0]], rows[1:]


def ogr_csv(src, *extra, env=None):
    """The layer as CSV through the plugin: X, Y, Z, then the fields."""
    p = run([OGR2OGR, "-f", "CSV", "/vsistdout/", src, "-lco", "GEOMETRY=AS_XYZ", *extra], env=env)
    return read_csv_text(p.stdout)


def cli_csv(src, *extra):
    return read_csv_text(run([COPC_CLI, "query", src, "--csv", "-", *extra]).stdout)


def bag(header, rows, cols):
    idx = [header.index(c) for c in cols]
    return Counter(tuple(norm(r[i]) for i in idx) for r in rows)


def same_points(a, b, what, cols=None):
    """Both CSVs hold the same multiset of rows over their common columns."""
    (ha, ra), (hb, rb) = a, b
    common = cols or [c for c in ha if c in hb]
    check({"x", "y", "z"} <= set(common), f"{what}: no x, y, z in common ({ha} / {hb})")
    check(len(ra) == len(rb), f"{what}: {len(ra)} points against {len(rb)}")
    ba, bb = bag(ha, ra, common), bag(hb, rb, common)
    if ba != bb:
        diff = list((ba - bb).items())[:3]
        raise Failed(f"{what}: rows differ on columns {common}, e.g. {diff}")
    return common


def copc_files():
    need_data()
    files = sorted(glob.glob(os.path.join(DATA, "*.copc.laz")))
    check(files, f"no *.copc.laz in {DATA}")
    return files


def small_file(name="pdal_1.2-with-color.copc.laz"):
    need_data()
    p = os.path.join(DATA, name)
    check(os.path.exists(p), f"{p} is missing")
    return p


def inner_box(info, frac=0.5, seed=1):
    """A 2-D box inside the header bounds whose edges sit between the scale steps."""
    lo, hi = info["bounds"]["min"], info["bounds"]["max"]
    rnd = random.Random(seed)
    box = []
    for a in range(2):
        w = (hi[a] - lo[a]) * frac
        start = lo[a] + (hi[a] - lo[a] - w) * rnd.random()
        s = info["scale"][a]
        box.append((math.floor(start / s) + 0.37) * s)
        box.append((math.floor((start + w) / s) + 0.61) * s)
    return box[0], box[2], box[1], box[3]  # minx, miny, maxx, maxy


# --- tests -----------------------------------------------------------------------

def t_formats():
    out = run([OGRINFO, "--formats"]).stdout
    check(re.search(r"^\s*COPC -vector- \(rw\+v\)", out, re.M), f"no 'COPC -vector- (rw+v)' in:\n{out}")


def t_info_files():
    for f in copc_files():
        try:
            info = copc_info(f)
        except Failed:
            info = None
        p = run([OGRINFO, "-ro", "-so", "-al", f], ok=False)
        if info is None:
            # A file our own CLI refuses: GDAL must report an error, not crash.
            check(p.returncode != 0 or "ERROR" in p.stderr, f"{f}: the CLI refuses it but ogrinfo says nothing")
            print(f"{os.path.basename(f)}: refused by both ({p.stderr.strip().splitlines()[-1:]})")
            continue
        check(p.returncode == 0, f"{f}: ogrinfo failed: {p.stderr}")
        m = re.search(r"^Feature Count: (\d+)", p.stdout, re.M)
        check(m and int(m.group(1)) == info["point_count"],
              f"{f}: Feature Count {m and m.group(1)} != header {info['point_count']}")
        m = re.search(r"^Extent: \(([-\d.e+]+), ([-\d.e+]+)\) - \(([-\d.e+]+), ([-\d.e+]+)\)", p.stdout, re.M)
        check(m, f"{f}: no Extent line in\n{p.stdout}")
        got = [float(v) for v in m.groups()]
        want = [info["bounds"]["min"][0], info["bounds"]["min"][1], info["bounds"]["max"][0], info["bounds"]["max"][1]]
        check(all(abs(g - w) <= 1e-6 * max(1.0, abs(w)) for g, w in zip(got, want)), f"{f}: extent {got} != {want}")
        check(re.search(r"^Geometry: 3D Point", p.stdout, re.M), f"{f}: not a 3D Point layer:\n{p.stdout}")
        if info.get("crs_wkt"):
            check("Layer SRS WKT" in p.stdout and "unknown" not in p.stdout.split("Layer SRS WKT")[1][:40],
                  f"{f}: the CRS is missing")
        print(f"{os.path.basename(f)}: {info['point_count']} points, extent ok")


def t_spat():
    for name in ["pdal_1.2-with-color.copc.laz", "pdal_ellipsoid-eb.copc.laz", "lastools_example.copc.laz"]:
        f = small_file(name)
        info = copc_info(f)
        box = inner_box(info)
        spat = [repr(v) for v in box]
        got = ogr_csv(f, "-spat", *spat)
        ours = cli_csv(f, "--bounds", ",".join(spat))
        cols = same_points(got, ours, f"{name}: ogr2ogr -spat vs copc query --bounds")
        # Brute force over every point.
        h, rows = cli_csv(f)
        ix, iy = h.index("x"), h.index("y")
        kept = [r for r in rows if box[0] <= float(r[ix]) <= box[2] and box[1] <= float(r[iy]) <= box[3]]
        same_points(got, (h, kept), f"{name}: ogr2ogr -spat vs brute force", cols)
        check(0 < len(kept) < len(rows), f"{name}: the box should keep some points, not all ({len(kept)})")
        # The filtered count (library count, no feature reads) agrees too.
        p = run([OGRINFO, "-ro", "-so", "-al", f, "-spat", *spat])
        m = re.search(r"^Feature Count: (\d+)", p.stdout, re.M)
        check(m and int(m.group(1)) == len(kept), f"{name}: ogrinfo -spat count {m and m.group(1)} != {len(kept)}")
        print(f"{name}: {len(kept)} of {len(rows)} points in {box}; columns {cols}")


def t_select():
    f = small_file()
    p = run([OGR2OGR, "-f", "CSV", "/vsistdout/", f, "-lco", "GEOMETRY=AS_XYZ", "-select", "classification,intensity",
             "--config", "CPL_DEBUG", "COPC"])
    h, rows = read_csv_text(p.stdout)
    check(h == ["x", "y", "z", "classification", "intensity"], f"-select kept the columns {h}")
    # The driver decoded only those dimensions (plus x, y, z): the query's mask.
    want = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 8)
    masks = re.findall(r"dimension mask 0x([0-9a-f]+)", p.stderr)
    check(masks and all(int(m, 16) == want for m in masks), f"dimension masks {masks}, want {want:#x}:\n{p.stderr}")
    ours = cli_csv(f, "--dims", "x,y,z,classification,intensity")
    same_points((h, rows), ours, "-select vs copc query --dims")


def t_resolution():
    f = small_file("pdal_ellipsoid-eb.copc.laz") if os.path.exists(os.path.join(DATA, "pdal_ellipsoid-eb.copc.laz")) else small_file()
    info = json.loads(run([COPC_CLI, "info", "--json", "--nodes", f]).stdout)
    spacing = info["copc"]["spacing"]
    levels = sorted({int(n["key"].split("-")[0]) for n in info["nodes"] if n["point_count"] > 0})
    check(len(levels) >= 2, f"{f}: needs at least two levels, has {levels}")
    # A resolution that keeps every level but the deepest, by the rule of copc-notes:
    # levels below depth_end = max(1, ceil(log2(spacing / res)) + 1).
    res = spacing / 2 ** (levels[-1] - 1.5)
    depth_end = max(1, math.ceil(math.log2(spacing / res)) + 1)
    check(depth_end == levels[-1], f"depth_end {depth_end} for resolution {res}")
    want = sum(n["point_count"] for n in info["nodes"] if n["point_count"] > 0 and int(n["key"].split("-")[0]) < depth_end)
    check(0 < want < info["point_count"], f"resolution {res} should keep some levels, not all")
    got = ogr_csv(f, "-oo", f"RESOLUTION={res!r}")
    check(len(got[1]) == want, f"-oo RESOLUTION={res}: {len(got[1])} points, the nodes above level {depth_end} hold {want}")
    same_points(got, cli_csv(f, "--resolution", repr(res)), "RESOLUTION vs copc query --resolution")
    got = ogr_csv(f, "-oo", "MAX_DEPTH=0")
    root = sum(n["point_count"] for n in info["nodes"] if n["key"].startswith("0-"))
    check(len(got[1]) == root, f"MAX_DEPTH=0: {len(got[1])} points, root holds {root}")
    p = run([OGRINFO, "-ro", "-so", "-al", "-oo", f"RESOLUTION={res!r}", f])
    check(f"Feature Count: {want}" in p.stdout, f"ogrinfo -oo RESOLUTION count:\n{p.stdout}")
    p = run([OGRINFO, "-ro", "-so", "-al", "-oo", "RESOLUTION=-1", f], ok=False)
    check(p.returncode != 0 and "RESOLUTION" in p.stderr, f"a bad RESOLUTION is refused:\n{p.stderr}")


def t_vsicurl():
    url = os.environ.get("COPC_TEST_NGINX_URL")
    need_data()
    if not url:
        print("SKIPPED: no COPC_TEST_NGINX_URL (scripts/ctest starts nginx, see .ci/nginx)")
        sys.exit(SKIP)
    name = "pdal_ellipsoid-eb.copc.laz"
    f = small_file(name)
    box = inner_box(copc_info(f), 0.6, seed=3)
    spat = [repr(v) for v in box]
    remote = f"/vsicurl/{url.rstrip('/')}/{name}"
    same_points(ogr_csv(remote, "-spat", *spat), ogr_csv(f, "-spat", *spat), "/vsicurl/ vs local, -spat")
    local = ogr_csv(f)
    same_points(ogr_csv(remote), local, "/vsicurl/ vs local, all points", cols=local[0])
    p = run([OGRINFO, "-ro", "-so", "-al", remote])
    check(f"Feature Count: {copc_info(f)['point_count']}" in p.stdout, p.stdout)


# --- object stores (issue #17): GDAL's /vsis3/ and /vsiaz/ do the I/O, our
# plugin reads through the VSI callbacks; emulators on 127.0.0.1 only. A missing
# emulator fails with what to install (scripts/test installs both).
TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "tools")
S3S_FS = os.environ.get("COPC_S3S_FS", os.path.join(TOOLS, "bin", "s3s-fs"))
AZURITE = os.environ.get("COPC_AZURITE", os.path.join(TOOLS, "azurite", "node_modules", "azurite", "dist", "src", "blob", "main.js"))
AZ_ACCOUNT = "devstoreaccount1"
# Azurite's documented development key (public by design).
AZ_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, port, what):
    import socket
    import time
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise Failed(f"{what} exited ({proc.returncode}) before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise Failed(f"{what} did not listen on 127.0.0.1:{port}")


def same_as_local(remote, f, env):
    box = inner_box(copc_info(f), 0.6, seed=5)
    spat = [repr(v) for v in box]
    same_points(ogr_csv(remote, "-spat", *spat, env=env), ogr_csv(f, "-spat", *spat), f"{remote} vs local, -spat")
    p = run([OGRINFO, "-ro", "-so", "-al", remote], env=env)
    check(f"Feature Count: {copc_info(f)['point_count']}" in p.stdout, p.stdout)


def t_vsis3():
    import shutil
    import tempfile
    name = "pdal_ellipsoid-eb.copc.laz"
    f = small_file(name)
    check(os.path.exists(S3S_FS), f"the S3 emulator s3s-fs is missing at {S3S_FS}: run scripts/test, or "
          "cargo install --locked s3s-fs@0.14.1 --features binary --root target/tools")
    with tempfile.TemporaryDirectory() as root:
        os.mkdir(os.path.join(root, "copc-test"))
        shutil.copy(f, os.path.join(root, "copc-test", name))
        port = free_port()
        proc = start([S3S_FS, "--host", "127.0.0.1", "--port", str(port), "--access-key", "GDALTESTKEY",
                      "--secret-key", "gdal-test-secret", root], port, "s3s-fs")
        try:
            env = {"AWS_S3_ENDPOINT": f"127.0.0.1:{port}", "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
                   "AWS_ACCESS_KEY_ID": "GDALTESTKEY", "AWS_SECRET_ACCESS_KEY": "gdal-test-secret",
                   "AWS_REGION": "us-east-1", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "HOME": root}
            same_as_local(f"/vsis3/copc-test/{name}", f, env)
            # The emulator checks signatures: a wrong secret cannot open it.
            bad = dict(env, AWS_SECRET_ACCESS_KEY="wrong")
            p = run([OGRINFO, "-ro", "-so", "-al", f"/vsis3/copc-test/{name}"], ok=False, env=bad)
            check(p.returncode != 0, f"a wrong secret opened the file:\n{p.stdout}")
        finally:
            proc.kill()
            proc.wait()


def t_vsiaz():
    import tempfile
    name = "pdal_ellipsoid-eb.copc.laz"
    f = small_file(name)
    check(os.path.exists(AZURITE), f"the Azure emulator Azurite is missing at {AZURITE}: run scripts/test, or "
          "npm install --prefix target/tools/azurite azurite@3.35.0")
    from osgeo import gdal
    with tempfile.TemporaryDirectory() as root:
        port = free_port()
        proc = start(["node", AZURITE, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--silent",
                      "--skipApiVersionCheck", "--location", root], port, "Azurite")
        try:
            conn = (f"DefaultEndpointsProtocol=http;AccountName={AZ_ACCOUNT};AccountKey={AZ_KEY};"
                    f"BlobEndpoint=http://127.0.0.1:{port}/{AZ_ACCOUNT};")
            env = {"AZURE_STORAGE_CONNECTION_STRING": conn, "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "HOME": root}
            # Setup through GDAL's own /vsiaz/ writer: a container and the file.
            for k, v in env.items():
                gdal.SetConfigOption(k, v)
            check(gdal.Mkdir("/vsiaz/copc-test", 0o755) == 0, "cannot create the container in Azurite")
            data = open(f, "rb").read()
            out = gdal.VSIFOpenL(f"/vsiaz/copc-test/{name}", "wb")
            check(out is not None, "cannot write the blob to Azurite")
            gdal.VSIFWriteL(data, 1, len(data), out)
            check(gdal.VSIFCloseL(out) == 0, "writing the blob to Azurite failed")
            same_as_local(f"/vsiaz/copc-test/{name}", f, env)
        finally:
            proc.kill()
            proc.wait()


def t_malformed():
    src = small_file()
    data = open(src, "rb").read()
    info = copc_info(src)
    with tempfile.TemporaryDirectory() as d:
        cases = {
            "header-only": data[:600],
            "half": data[: len(data) // 2],
            # Garbage over the points and the hierarchy: opens, reading fails.
            "garbage-tail": data[:1200] + bytes(random.Random(5).randrange(256) for _ in range(len(data) - 1200)),
            # The root hierarchy page pointed past the end of the file.
            "bad-root": data[:429 + 40] + (len(data) * 2).to_bytes(8, "little") + data[429 + 48:],
        }
        # Garbage inside the compressed chunks only: opens, then decoding fails.
        pd = int.from_bytes(data[96:100], "little")
        evlr = int.from_bytes(data[235:243], "little")
        rnd = random.Random(6)
        cases["garbage-chunks"] = (data[:pd + 40] + bytes(rnd.randrange(256) for _ in range(evlr - 200 - pd - 40))
                                   + data[evlr - 200:])
        for name, b in cases.items():
            path = os.path.join(d, f"{name}.copc.laz")
            open(path, "wb").write(b)
            p = run([OGRINFO, "-ro", "-al", path], ok=False)
            err = p.stderr + p.stdout
            check("ERROR" in err and "COPC" in err, f"{name}: no COPC error reported (exit {p.returncode}):\n{err[-1500:]}")
            print(f"{name}: exit {p.returncode}, {[l for l in err.splitlines() if 'ERROR' in l][:1]}")
        check(info["point_count"] > 0, "source has points")


def write_and_compare(src_args, out, want, cols, opts=()):
    run([OGR2OGR, "-f", "COPC", out, *src_args, *opts])
    # Read back through the plugin and, independently, through our CLI.
    same_points(ogr_csv(out), want, "written then read with GDAL", cols)
    same_points(cli_csv(out), want, "written (GDAL) then read with copc query", cols)


def t_write_csv():
    rnd = random.Random(8)
    n = 3000
    cols = ["x", "y", "z", "intensity", "classification", "return_number", "number_of_returns", "gps_time",
            "red", "green", "blue", "amplitude", "deviation"]
    rows = []
    for i in range(n):
        r = rnd.randrange(1, 4)
        rows.append([f"{500000 + rnd.random() * 1000:.3f}", f"{4000000 + rnd.random() * 800:.3f}",
                     f"{100 + rnd.random() * 50:.3f}", str(rnd.randrange(65536)), str(rnd.randrange(32)),
                     str(rnd.randrange(1, r + 1)), str(r), f"{rnd.random() * 1e5:.6f}", str(rnd.randrange(65536)),
                     str(rnd.randrange(65536)), str(rnd.randrange(65536)), str(rnd.randrange(-5000, 5000)),
                     f"{rnd.random() * 100 - 50:.4f}"])
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "points.csv")
        with open(src, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows(rows)
        out = os.path.join(d, "out.copc.laz")
        write_and_compare([src, "-oo", "X_POSSIBLE_NAMES=x", "-oo", "Y_POSSIBLE_NAMES=y", "-oo", "Z_POSSIBLE_NAMES=z",
                           "-oo", "AUTODETECT_TYPE=YES"], out, (cols, rows), cols,
                          ["-dsco", "MAX_POINTS_PER_NODE=500", "-a_srs", "EPSG:32615"])
        info = json.loads(run([COPC_CLI, "info", "--json", "--nodes", out]).stdout)
        check(info["point_format"] == 7, f"RGB fields make point format 7, got {info['point_format']}")
        check([e["name"] for e in info["extra_bytes"]] == ["amplitude", "deviation"],
              f"extra bytes {info['extra_bytes']}")
        # 3000 points fit one node by default; MAX_POINTS_PER_NODE=500 makes the octree split.
        check(len([n for n in info["nodes"] if n["point_count"] > 0]) > 1, "MAX_POINTS_PER_NODE=500 splits the root")
        check(info["crs_wkt"] and "32615" in info["crs_wkt"], "the CRS is written")
        # Options reach the file: scale, offset, point format.
        out2 = os.path.join(d, "out2.copc.laz")
        run([OGR2OGR, "-f", "COPC", out2, src, "-oo", "X_POSSIBLE_NAMES=x", "-oo", "Y_POSSIBLE_NAMES=y",
             "-oo", "Z_POSSIBLE_NAMES=z", "-oo", "AUTODETECT_TYPE=YES", "-dsco", "SCALE=0.0005",
             "-dsco", "OFFSET=500000,4000000,0", "-dsco", "POINT_FORMAT=8"])
        i2 = json.loads(run([COPC_CLI, "info", "--json", "--nodes", out2]).stdout)
        check(len([n for n in i2["nodes"] if n["point_count"] > 0]) == 1, "without MAX_POINTS_PER_NODE one node")
        check(i2["scale"] == [0.0005] * 3 and i2["offset"] == [500000, 4000000, 0] and i2["point_format"] == 8,
              f"options: scale {i2['scale']} offset {i2['offset']} format {i2['point_format']}")
        same_points(cli_csv(out2), (cols, rows), "written with SCALE/OFFSET/POINT_FORMAT", cols)
        keep = os.environ.get("COPC_GDAL_WRITTEN")
        if keep:
            shutil.copy(out, keep)


def t_write_copc():
    f = small_file("pdal_ellipsoid-eb.copc.laz")
    want = ogr_csv(f)
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "copy.copc.laz")
        # The source's scale keeps every coordinate exact.
        s = copc_info(f)["scale"]
        write_and_compare([f], out, want, want[0], ["-dsco", f"SCALE={s[0]!r},{s[1]!r},{s[2]!r}"])
        check(copc_info(out)["point_count"] == copc_info(f)["point_count"], "point count")
        keep = os.environ.get("COPC_GDAL_WRITTEN_COPC")
        if keep:
            shutil.copy(out, keep)


def t_python_openex():
    try:
        from osgeo import gdal, ogr
    except ImportError:
        raise Failed(f"{sys.executable}: no osgeo.gdal (apt-get install python3-gdal)")
    gdal.UseExceptions()
    f = small_file()
    info = copc_info(f)
    ds = gdal.OpenEx(f, gdal.OF_VECTOR | gdal.OF_READONLY)
    check(ds.GetDriver().ShortName == "COPC", f"opened by {ds.GetDriver().ShortName}")
    lyr = ds.GetLayer(0)
    check(lyr.GetFeatureCount() == info["point_count"], "feature count")
    check(lyr.GetGeomType() == ogr.wkbPoint25D, "Point Z")
    names = [lyr.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(lyr.GetLayerDefn().GetFieldCount())]
    check("classification" in names and "intensity" in names and "gps_time" in names, f"fields {names}")
    # FIDs are stable: a filtered read and random access give the same FID for a point.
    full = {ft.GetFID(): (ft.GetGeometryRef().GetX(), ft.GetGeometryRef().GetY(), ft["intensity"]) for ft in lyr}
    check(sorted(full) == list(range(info["point_count"])), "FIDs are 0..N-1")
    box = inner_box(info)
    lyr.SetSpatialFilterRect(*box)
    n = 0
    for ft in lyr:
        check(full[ft.GetFID()] == (ft.GetGeometryRef().GetX(), ft.GetGeometryRef().GetY(), ft["intensity"]),
              f"FID {ft.GetFID()} names another point under a spatial filter")
        n += 1
    check(n == lyr.GetFeatureCount() and n > 0, "filtered count")
    # A polygon filter (a triangle) goes to the library as a polygon query: exact.
    tri = ogr.CreateGeometryFromWkt(
        f"POLYGON(({box[0]} {box[1]},{box[2]} {box[1]},{box[0]} {box[3]},{box[0]} {box[1]}))")
    lyr.SetSpatialFilter(tri)
    got_tri = sorted(ft.GetFID() for ft in lyr)
    want_tri = sorted(fid for fid, (x, y, _) in full.items() if tri.Intersects(ogr.CreateGeometryFromWkt(f"POINT({x!r} {y!r})")))
    check(got_tri == want_tri and 0 < len(want_tri) < n, f"triangle filter: {len(got_tri)} FIDs, brute force {len(want_tri)}")
    lyr.SetSpatialFilter(None)
    for fid in [0, info["point_count"] // 2, info["point_count"] - 1]:
        ft = lyr.GetFeature(fid)
        check((ft.GetGeometryRef().GetX(), ft.GetGeometryRef().GetY(), ft["intensity"]) == full[fid], f"GetFeature({fid})")
    check(lyr.GetFeature(info["point_count"]) is None, "no feature past the end")
    # An attribute filter goes through GDAL's generic path.
    lyr.SetAttributeFilter("classification = 2")
    got = sum(1 for _ in lyr)
    h, rows = cli_csv(f, "--dims", "x,y,z,classification")
    check(got == sum(1 for r in rows if int(float(r[h.index("classification")])) == 2), "attribute filter count")
    print(f"gdal {gdal.__version__}: {info['point_count']} features, {n} in the box, {got} of class 2")


def t_arrow():
    """RFC 86 through our plugin: TestCapability(OLCFastGetArrowStream) is true and
    GetArrowStreamAsNumPy() gives, field by field, the values of a GetNextFeature()
    loop (FIDs, every field, the WKB of the geometry), without filters, with ignored
    fields, with a rectangle and a polygon spatial filter, in small batches; with an
    attribute filter the generic path answers the same way."""
    try:
        from osgeo import gdal, ogr
        import numpy as np
    except ImportError:
        raise Failed(f"{sys.executable}: no osgeo.gdal or numpy (apt-get install python3-gdal python3-numpy)")
    gdal.UseExceptions()

    def by_features(lyr):
        defn = lyr.GetLayerDefn()
        names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())
                 if not defn.GetFieldDefn(i).IsIgnored()]
        rows = {"OGC_FID": [], "wkb_geometry": []}
        for n in names:
            rows[n] = []
        lyr.ResetReading()
        for ft in lyr:
            rows["OGC_FID"].append(ft.GetFID())
            g = ft.GetGeometryRef()
            rows["wkb_geometry"].append(bytes(g.ExportToIsoWkb()) if g is not None else None)
            for n in names:
                rows[n].append(ft[n])
        return rows

    def by_arrow(lyr, opts=()):
        got = {}
        for batch in lyr.GetArrowStreamAsNumPy(options=["USE_MASKED_ARRAYS=NO", *opts]):
            for k, v in batch.items():
                got.setdefault(k, []).extend(bytes(x) if k == "wkb_geometry" else x.item() for x in v)
        return got

    def same(lyr, what, opts=()):
        want, got = by_features(lyr), by_arrow(lyr, opts)
        check(sorted(got) == sorted(want), f"{what}: columns {sorted(got)} != {sorted(want)}")
        n = len(want["OGC_FID"])
        for k in want:
            check(len(got[k]) == n, f"{what}: {k} has {len(got[k])} values, {n} features")
            bad = [i for i in range(n) if got[k][i] != want[k][i] and not (
                isinstance(want[k][i], float) and math.isnan(want[k][i]) and math.isnan(got[k][i]))]
            check(not bad, f"{what}: {k} differs at {len(bad)} rows, e.g. row {bad[:1]}: "
                           f"{[got[k][i] for i in bad[:1]]} vs {[want[k][i] for i in bad[:1]]}")
        return n

    for name in ["pdal_1.2-with-color.copc.laz", "pdal_ellipsoid-eb.copc.laz", "lastools_example.copc.laz"]:
        f = small_file(name)
        info = copc_info(f)
        ds = gdal.OpenEx(f, gdal.OF_VECTOR | gdal.OF_READONLY)
        lyr = ds.GetLayer(0)
        check(lyr.TestCapability(ogr.OLCFastGetArrowStream), f"{name}: OLCFastGetArrowStream is false")
        n = same(lyr, f"{name}: everything", ["MAX_FEATURES_IN_BATCH=1000"])
        check(n == info["point_count"], f"{name}: {n} rows, {info['point_count']} points")
        box = inner_box(info)
        lyr.SetSpatialFilterRect(*box)
        nbox = same(lyr, f"{name}: rectangle")
        check(0 < nbox < n or n < 50, f"{name}: the box keeps {nbox} of {n}")
        tri = ogr.CreateGeometryFromWkt(
            f"POLYGON(({box[0]} {box[1]},{box[2]} {box[1]},{box[0]} {box[3]},{box[0]} {box[1]}))")
        lyr.SetSpatialFilter(tri)
        ntri = same(lyr, f"{name}: triangle", ["MAX_FEATURES_IN_BATCH=7"])
        lyr.SetSpatialFilter(None)
        defn = lyr.GetLayerDefn()
        keep = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())][:3]
        ignored = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())
                   if defn.GetFieldDefn(i).GetName() not in keep]
        lyr.SetIgnoredFields(ignored)
        same(lyr, f"{name}: ignored fields")
        lyr.SetSpatialFilterRect(*box)
        same(lyr, f"{name}: ignored fields and a rectangle")
        lyr.SetIgnoredFields(ignored + ["OGR_GEOMETRY"])
        got = by_arrow(lyr, ["INCLUDE_FID=NO"])
        check(sorted(got) == sorted(keep), f"{name}: without geometry and FID: {sorted(got)}")
        lyr.SetIgnoredFields([])
        lyr.SetSpatialFilter(None)
        lyr.SetAttributeFilter("classification = 2")
        check(not lyr.TestCapability(ogr.OLCFastGetArrowStream), f"{name}: fast with an attribute filter")
        ncls = same(lyr, f"{name}: attribute filter (generic path)")
        print(f"{name}: {n} rows, {nbox} in the box, {ntri} in the triangle, {ncls} of class 2; fields {keep} kept")
        ds = None


def t_arrow_doc():
    """The GDAL Python snippet of docs/arrow.md runs as written, in the data folder."""
    need_data()
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "arrow.md")
    with open(doc) as fh:
        m = re.search(r"^```python\n(.*?)^```$", fh.read(), re.M | re.S)
    check(m, f"no python block in {doc}")
    p = subprocess.run([sys.executable, "-c", m.group(1)], cwd=DATA, capture_output=True, text=True)
    check(p.returncode == 0, f"the snippet fails:\n{p.stderr[-2000:]}")
    check(re.search(r"^\d+ points in the box$", p.stdout, re.M), f"unexpected output:\n{p.stdout}")
    print(p.stdout.strip().splitlines()[-1])


def t_installed():
    """The plugin built standalone against the installed package (find_package(Copc))
    and the plugin `cmake --install` put in <prefix>/lib/gdalplugins both load."""
    prefix, src, build = sys.argv[2], sys.argv[3], sys.argv[4]
    libdir = os.environ.get("LIBDIR", "lib")
    installed = os.path.join(prefix, libdir, "gdalplugins")
    check(os.path.exists(os.path.join(installed, "ogr_COPC.so")), f"{installed}/ogr_COPC.so not installed")
    out = run([OGRINFO, "--formats"], env={"GDAL_DRIVER_PATH": installed}).stdout
    check("COPC -vector-" in out, f"the installed plugin does not load:\n{out}")
    shutil.rmtree(build, ignore_errors=True)
    run(["cmake", "-S", src, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=Release"])
    run(["cmake", "--build", build])
    out = run([OGRINFO, "--formats"], env={"GDAL_DRIVER_PATH": os.path.join(build, "gdalplugins")}).stdout
    check("COPC -vector-" in out, f"the standalone plugin does not load:\n{out}")
    if DATA:
        f = small_file()
        p = run([OGRINFO, "-ro", "-so", "-al", f], env={"GDAL_DRIVER_PATH": os.path.join(build, "gdalplugins")})
        check(f"Feature Count: {copc_info(f)['point_count']}" in p.stdout, p.stdout)


TESTS = {k[2:]: v for k, v in globals().items() if k.startswith("t_")}

if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in TESTS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(TESTS)}}}")
    try:
        TESTS[name]()
    except Failed as e:
        print(f"FAILED {name}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"ok {name}")
