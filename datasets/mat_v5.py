"""Structural check of a MATLAB v5 file before scipy reads it.

scipy's compiled v5 reader trusts the sizes written in a file: a damaged byte in a tag or a
dimension can crash the interpreter (a segmentation fault, found by fuzzing) instead of raising.
So every data element is walked first, nested ones included: each must fit inside its parent,
an array's data must hold exactly as many values as its dimensions say, and cells and structs
must hold as many sub-arrays as they claim. Anything else is a one-line UserError naming the file.
Compressed elements are inflated and checked the same way.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

from vposebench.errors import UserError

#: the fixed header of a MATLAB v5 file; its last 4 bytes are the version and the byte order
V5_HEADER = 128
MI_INT8, MI_UINT8, MI_INT32, MI_UINT32 = 1, 2, 5, 6
MI_MATRIX, MI_COMPRESSED = 14, 15
MI_UTF8, MI_UTF16, MI_UTF32 = 16, 17, 18
#: bytes per value of each numeric data type
ITEM_SIZE = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8}
TEXT_TYPES = {MI_UTF8: 1, MI_UTF16: 2, MI_UTF32: 4}
MX_CELL, MX_STRUCT, MX_OBJECT, MX_CHAR = 1, 2, 3, 4
MX_NUMERIC = range(6, 16)  # double, single, int8 ... uint64
COMPLEX_FLAG = 0x0800
MAX_DEPTH = 64
MAX_VALUES = 2 ** 31
#: largest inflated size of one compressed variable (a guard against zip bombs)
MAX_INFLATED = 4 * 2 ** 30


def byte_order(header: bytes) -> str | None:
    """'<' or '>' for a v5 header, None for anything else (v4, v7.3/HDF5, not MATLAB)."""
    if len(header) < V5_HEADER:
        return None
    order = {b"IM": "<", b"MI": ">"}.get(header[126:128])
    if order is None or struct.unpack(order + "H", header[124:126])[0] != 0x0100:
        return None
    return order


def check_v5_file(path: Path, data: bytes) -> None:
    """Walk every data element of a v5 file's bytes `data` (read from `path`, named in errors);
    a file that is not v5 is left to scipy."""
    order = byte_order(data[:V5_HEADER])
    if order is not None:
        ElementWalker(data, order, path).top_level()


class ElementWalker:
    """Checks the data elements of one buffer (the file, or one inflated compressed element)."""

    def __init__(self, data: bytes, order: str, path: Path, *, offset: int = 0) -> None:
        self.data, self.order, self.path, self.offset = data, order, path, offset

    def fail(self, what: str, position: int) -> UserError:
        where = f"byte {position}" if not self.offset else f"byte {position} of the compressed element at byte {self.offset}"
        return UserError(f"corrupt MATLAB file: {what} (at {where})", path=self.path)

    def top_level(self) -> None:
        size = len(self.data)
        position = V5_HEADER
        while position < size:
            if position + 8 > size:
                raise UserError(f"truncated MATLAB file: {size - position} stray byte(s) where a data "
                                f"element should start (at byte {position})", path=self.path)
            kind, count = struct.unpack(self.order + "II", self.data[position:position + 8])
            start, end = position + 8, position + 8 + count
            if kind >> 16 or count == 0 or end > size:
                raise UserError(f"truncated or corrupt MATLAB file: the data element at byte {position} "
                                f"needs {count} bytes, the file ends {size - start} bytes later", path=self.path)
            if kind == MI_COMPRESSED:
                self.compressed(start, end)
            elif kind == MI_MATRIX:
                self.matrix(start, end, 0)
            else:
                raise self.fail(f"a top-level element of type {kind} where a variable should be", position)
            position = end

    def compressed(self, start: int, end: int) -> None:
        inflater = zlib.decompressobj()
        try:
            inner = inflater.decompress(self.data[start:end], MAX_INFLATED)
        except zlib.error as exc:
            raise self.fail(f"compressed variable does not inflate ({exc})", start) from None
        if inflater.unconsumed_tail:
            raise self.fail(f"compressed variable inflates to more than {MAX_INFLATED} bytes", start)
        walker = ElementWalker(inner, self.order, self.path, offset=self.offset + start)
        kind, data_start, data_end, _ = walker.tag(0, len(inner))
        if kind != MI_MATRIX:
            raise walker.fail(f"a compressed element of type {kind} where a variable should be", 0)
        walker.matrix(data_start, data_end, 0)

    def tag(self, position: int, end: int) -> tuple[int, int, int, int]:
        """(type, data start, data end, next element) of the element at `position`, inside `end`."""
        if position + 8 > end:
            raise self.fail("an element tag runs past the end of its parent", position)
        kind, count = struct.unpack(self.order + "II", self.data[position:position + 8])
        if kind >> 16:  # small element: the byte count in the upper half, 4 data bytes in the tag
            small = kind >> 16
            if small > 4:
                raise self.fail(f"a small element claims {small} data bytes (at most 4 fit)", position)
            return kind & 0xFFFF, position + 4, position + 4 + small, position + 8
        data_end = position + 8 + count
        if data_end > end:
            raise self.fail(f"an element needs {count} bytes, its parent ends {end - position - 8} bytes later",
                            position)
        return kind, position + 8, data_end, min(position + 8 + -(-count // 8) * 8, end)

    def values(self, kind: int, start: int, end: int, expected: int, what: str) -> None:
        """A numeric data element must hold exactly `expected` values."""
        size = ITEM_SIZE.get(kind) or TEXT_TYPES.get(kind)
        if size is None:
            raise self.fail(f"{what} has data type {kind}, not a numeric type", start)
        if kind in TEXT_TYPES:
            return  # decoded text: scipy checks the character count itself
        if (end - start) % size or (end - start) // size != expected:
            raise self.fail(f"{what} holds {(end - start) / size:g} values, its dimensions say {expected}", start)

    def matrix(self, start: int, end: int, depth: int) -> None:
        """The sub-elements of one miMATRIX element occupying [start, end)."""
        if start == end:
            return  # an empty array inside a cell or struct
        if depth > MAX_DEPTH:
            raise self.fail(f"arrays nested more than {MAX_DEPTH} deep", start)
        kind, flags_start, flags_end, position = self.tag(start, end)
        if kind != MI_UINT32 or flags_end - flags_start != 8:
            raise self.fail("an array without its flags element", start)
        flags = struct.unpack(self.order + "I", self.data[flags_start:flags_start + 4])[0]
        array_class = flags & 0xFF
        kind, dims_start, dims_end, dims_next = self.tag(position, end)
        count = (dims_end - dims_start) // 4
        if kind != MI_INT32 or (dims_end - dims_start) % 4 or count < 2:
            raise self.fail("an array without a valid dimensions element", position)
        dims = struct.unpack(f"{self.order}{count}i", self.data[dims_start:dims_end])
        if min(dims) < 0 or math.prod(dims) >= MAX_VALUES:
            raise self.fail(f"impossible dimensions {dims}", position)
        values = math.prod(dims)
        kind, _, _, position = self.tag(dims_next, end)
        if kind not in (MI_INT8, MI_UINT8):
            raise self.fail("an array without its name element", dims_next)
        if array_class in MX_NUMERIC or array_class == MX_CHAR:
            parts = 2 if flags & COMPLEX_FLAG else 1
            for part in range(parts):
                kind, data_start, data_end, position = self.tag(position, end)
                self.values(kind, data_start, data_end, values, "the imaginary part" if part else "an array")
        elif array_class == MX_CELL:
            self.children(position, end, values, depth)
        elif array_class in (MX_STRUCT, MX_OBJECT):
            if array_class == MX_OBJECT:
                _, _, _, position = self.tag(position, end)  # the class name
            kind, length_start, length_end, position = self.tag(position, end)
            if kind != MI_INT32 or length_end - length_start != 4:
                raise self.fail("a struct without its field-name length", length_start)
            length = struct.unpack(self.order + "i", self.data[length_start:length_end])[0]
            names_at = position
            kind, names_start, names_end, position = self.tag(position, end)
            if length <= 0 or kind != MI_INT8 or (names_end - names_start) % length:
                raise self.fail(f"struct field names of {names_end - names_start} bytes in slots of {length}",
                                names_at)
            self.children(position, end, values * ((names_end - names_start) // length), depth)
        else:
            raise self.fail(f"MATLAB array class {array_class} (sparse, function handle or opaque) "
                            "is not supported", start)

    def children(self, position: int, end: int, count: int, depth: int) -> None:
        """`count` miMATRIX elements (the contents of a cell or struct array) from `position`."""
        for _ in range(count):
            kind, data_start, data_end, position = self.tag(position, end)
            if kind != MI_MATRIX:
                raise self.fail(f"an element of type {kind} inside a cell or struct", data_start)
            self.matrix(data_start, data_end, depth + 1)
