"""Find the ``file`` part of a multipart/form-data body spooled to disk, without reading it into memory."""
import email.message
import io

BLOCK = 1024 * 1024
MAX_PART_HEADERS = 16 * 1024


class Window(io.RawIOBase):
    """A read-only, seekable view of ``length`` bytes of ``source`` starting at ``start``."""

    def __init__(self, source, start, length):
        super().__init__()
        self.source, self.start, self.length, self.pos = source, start, length, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.length}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer):
        wanted = min(len(buffer), self.length - self.pos)
        if wanted <= 0:
            return 0
        self.source.seek(self.start + self.pos)
        data = self.source.read(wanted)
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)


def _find(source, needle, start):
    """Offset of ``needle`` in the file at or after ``start``, or -1 (reads one block at a time)."""
    pos = start
    while True:
        source.seek(pos)
        block = source.read(BLOCK)
        found = block.find(needle)
        if found >= 0:
            return pos + found
        if len(block) < BLOCK:
            return -1
        pos += len(block) - len(needle) + 1


def find_file_part(source, boundary, field="file"):
    """``(filename, content_type, Window)`` of the first part named ``field``, or None."""
    delimiter = b"--" + boundary
    pos = _find(source, delimiter, 0)
    while pos >= 0:
        source.seek(pos + len(delimiter))
        if source.read(2) != b"\r\n":  # "--" after the last delimiter, or garbage
            return None
        headers_start = pos + len(delimiter) + 2
        source.seek(headers_start)
        head = source.read(MAX_PART_HEADERS)
        end_of_headers = head.find(b"\r\n\r\n")
        if end_of_headers < 0:
            return None
        data_start = headers_start + end_of_headers + 4
        data_end = _find(source, b"\r\n" + delimiter, data_start)
        if data_end < 0:
            return None
        headers = email.message.Message()
        for line in head[:end_of_headers].decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        if headers.get_param("name", header="content-disposition") == field:
            filename = headers.get_filename() or ""
            kind = headers.get_content_type() if headers.get("content-type") else "application/octet-stream"
            return filename, kind, Window(source, data_start, data_end - data_start)
        pos = data_end + 2
    return None
