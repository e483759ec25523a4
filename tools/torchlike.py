"""Writers that produce PyTorch checkpoint files byte by byte, with knobs torch.save lacks.

torch.save itself is used wherever it can make a case; these writers make the cases it cannot:
other storage keys, big-endian data, ZIP64 directories, missing CRCs, deflated or missing records,
legacy files with view_metadata, and hand-assembled pickles. Every file that is meant to be valid
is loaded back with torch.load by the generator, so the writers are checked against PyTorch.
"""

import io
import pickle
import struct
import zlib

import torch

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class StorageTable:
    """Collects the storages a pickle references, keyed the way a writer chooses."""

    def __init__(self, key_of=None):
        self.key_of = key_of or (lambda index: str(index))
        self.keys = {}  # data_ptr -> key
        self.data = {}  # key -> (dtype, raw little-endian bytes)

    def persistent_id(self, obj, legacy=False):
        if isinstance(obj, torch.storage.TypedStorage):
            untyped, dtype = obj._untyped_storage, obj.dtype
            storage_type, numel = getattr(torch, obj._pickle_storage_type()), obj._size()
        elif isinstance(obj, torch.UntypedStorage):
            # _rebuild_tensor_v3 dtypes (uint16/32/64, float8): counted in bytes.
            untyped, dtype = obj, torch.uint8
            storage_type, numel = torch.UntypedStorage, obj.nbytes()
        else:
            return None
        ptr = untyped.data_ptr()
        if ptr not in self.keys:
            key = self.key_of(len(self.keys))
            self.keys[ptr] = key
            self.data[key] = (dtype, storage_bytes(untyped))
        key = self.keys[ptr]
        if legacy:
            return ("storage", storage_type, key, "cpu", numel, None)
        return ("storage", storage_type, key, "cpu", numel)


def storage_bytes(untyped):
    view = torch.empty(0, dtype=torch.uint8)
    view.set_(untyped)
    return view.numpy().tobytes()


def pickle_with_storages(obj, table, protocol=2, legacy=False):
    """Pickles obj as torch.save does, sending storages through table."""
    buffer = io.BytesIO()

    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            return table.persistent_id(o, legacy=legacy)

    Pickler(buffer, protocol=protocol).dump(obj)
    return buffer.getvalue()


def swap_bytes(raw, dtype):
    size = torch.empty((), dtype=dtype).element_size()
    unit = size // 2 if dtype.is_complex else size
    if unit == 1:
        return raw
    out = bytearray(len(raw))
    for i in range(0, len(raw), unit):
        out[i:i + unit] = raw[i:i + unit][::-1]
    return bytes(out)


# ----------------------------------------------------------------------------- zip


def write_zip(path, records, *, zip64=False, crc=True, deflate=(), align=64, descriptor=True, declared_sizes=None):
    """A zip archive as torch.save writes one, with switches for the variants a reader must take.

    records: list of (name, bytes). deflate: names to store deflated. declared_sizes: name -> size
    to write in the directory instead of the real one (for bomb and truncation cases).
    """
    out = bytearray()
    central = []
    for name, data in records:
        raw_name = name.encode()
        method = 8 if name in deflate else 0
        payload = zlib.compress(data, 9)[2:-4] if method == 8 else data
        checksum = zlib.crc32(data) if crc else 0
        size = (declared_sizes or {}).get(name, len(data))
        offset = len(out)
        flags = 0x08 if descriptor else 0
        # Pad the local extra field so that stored data starts on an `align`-byte boundary.
        base = offset + 30 + len(raw_name)
        extra = b""
        if method == 0 and align:
            pad = (-(base + 4)) % align
            extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad  # "FB", as PyTorch's writer
        local_sizes = (0, 0, 0) if descriptor else (checksum, len(payload), size)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, flags, method, 0, 0x21,
                           *local_sizes, len(raw_name), len(extra))
        out += raw_name + extra + payload
        if descriptor:
            out += struct.pack("<IIII", 0x08074B50, checksum, len(payload), size)
        central.append((raw_name, method, flags, checksum, len(payload), size, offset))

    directory_start = len(out)
    for raw_name, method, flags, checksum, compressed, size, offset in central:
        extra = b""
        if zip64:
            extra = struct.pack("<HHQQQ", 0x0001, 24, size, compressed, offset)
            compressed_field, size_field, offset_field = 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF
        else:
            compressed_field, size_field, offset_field = compressed, size, offset
        out += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45 if zip64 else 20, flags, method, 0, 0x21,
                           checksum, compressed_field, size_field, len(raw_name), len(extra), 0, 0, 0, 0, offset_field)
        out += raw_name + extra
    directory_size = len(out) - directory_start
    count = len(central)
    if zip64:
        record = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, directory_size, directory_start)
        out += struct.pack("<IIQI", 0x07064B50, 0, record, 1)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, directory_size, directory_start, 0)
    with open(path, "wb") as f:
        f.write(out)


def save_zip(obj, path, *, folder="archive", protocol=2, key_of=None, big_endian=False, drop=(),
             truncate=None, pickle_bytes=None, **zip_options):
    """torch.save's zip layout with control over keys, byte order, records and the zip itself."""
    table = StorageTable(key_of)
    data_pkl = pickle_bytes if pickle_bytes is not None else pickle_with_storages(obj, table, protocol)
    records = [(f"{folder}/data.pkl", data_pkl), (f"{folder}/.format_version", b"1"),
               (f"{folder}/.storage_alignment", b"64"),
               (f"{folder}/byteorder", b"big" if big_endian else b"little")]
    for key, (dtype, raw) in table.data.items():
        if key in drop:
            continue
        if big_endian:
            raw = swap_bytes(raw, dtype)
        if truncate and key in truncate:
            raw = raw[:truncate[key]]
        records.append((f"{folder}/data/{key}", raw))
    records.append((f"{folder}/version", b"3\n"))
    write_zip(path, records, **zip_options)


# ----------------------------------------------------------------------------- legacy


def save_legacy(obj, path, *, protocol=2, big_endian=False, views=None, main_pickle=None):
    """The pre-1.6 stream: magic, protocol version, sys_info, main pickle, keys, storages.

    big_endian: record a big-endian writer in sys_info, as a file saved on such a machine does.

    views: optional list of (tensor_name, root_key, view_key, offset) to express tensors as views
    of a larger root storage through view_metadata, as PyTorch < 1.0 wrote them.
    """
    table = StorageTable()
    if main_pickle is None:
        main_pickle = pickle_with_storages(obj, table, protocol, legacy=True)
    sys_info = dict(protocol_version=1001, little_endian=not big_endian, type_sizes=dict(short=2, int=4, long=4))
    out = bytearray()
    out += pickle.dumps(LEGACY_MAGIC, protocol=protocol)
    out += pickle.dumps(1001, protocol=protocol)
    out += pickle.dumps(sys_info, protocol=protocol)
    out += main_pickle
    keys = sorted(table.data)
    out += pickle.dumps(keys, protocol=protocol)
    for key in keys:
        dtype, raw = table.data[key]
        count = len(raw) // torch.empty((), dtype=dtype).element_size()
        # PyTorch writes legacy storages little-endian on every machine; sys_info only records the
        # writer's byte order (THPStorage_writeFileRaw swaps on big-endian hosts).
        out += struct.pack("<q", count) + raw
    with open(path, "wb") as f:
        f.write(out)
    return table


def save_legacy_raw(path, main_pickle, storages, protocol=2):
    """A legacy file around a hand-written main pickle; storages: list of (key, count, raw)."""
    sys_info = dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4))
    out = bytearray()
    out += pickle.dumps(LEGACY_MAGIC, protocol=protocol)
    out += pickle.dumps(1001, protocol=protocol)
    out += pickle.dumps(sys_info, protocol=protocol)
    out += main_pickle
    out += pickle.dumps(sorted(key for key, _, _ in storages), protocol=protocol)
    for key, count, raw in sorted(storages):
        out += struct.pack("<q", count) + raw
    with open(path, "wb") as f:
        f.write(out)


# ----------------------------------------------------------------------------- hand-assembled pickles


class Asm:
    """A tiny pickle assembler for the opcodes torch.save never emits (text opcodes, attacks)."""

    def __init__(self, protocol=2):
        self.out = bytearray(b"\x80" + bytes([protocol])) if protocol >= 2 else bytearray()

    def raw(self, data):
        self.out += data
        return self

    def op(self, code, arg=b""):
        self.out += code + arg
        return self

    def global_(self, module, name):
        return self.op(b"c", f"{module}\n{name}\n".encode())

    def text_string(self, text):  # protocol 0 STRING with repr quoting
        return self.op(b"S", repr(text).encode() + b"\n")

    def binstring(self, data):
        return self.op(b"U", bytes([len(data)]) + data) if len(data) < 256 else self.op(b"T", struct.pack("<i", len(data)) + data)

    def unicode(self, text):
        data = text.encode()
        return self.op(b"X", struct.pack("<I", len(data)) + data)

    def int_text(self, value):
        return self.op(b"I", f"{value}\n".encode())

    def long_text(self, value):
        return self.op(b"L", f"{value}L\n".encode())

    def binint(self, value):
        return self.op(b"J", struct.pack("<i", value))

    def stop(self):
        self.out += b"."
        return bytes(self.out)
