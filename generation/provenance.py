"""Every generated image says that it is one, in its file: XMP metadata with IPTC's digital
source type "trainedAlgorithmicMedia" (and the tool and the model that made it), written into
the stored file, so every download carries it (the web, the API, ZIPs, share links, Cloudflare
Images copies). With AI_MARK_VISIBLE the picture also gets a small "AI-generated" label in its
corner.

PNG and JPEG get the XMP packet inserted without re-encoding (a PNG iTXt chunk named
"XML:com.adobe.xmp", a JPEG APP1 segment), replacing any XMP the provider wrote and keeping
everything else (a C2PA manifest included). WebP, and any picture that gets the visible label,
is encoded again by Pillow with the XMP."""

import io
import struct
import zlib
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
VISIBLE_LABEL = "AI-generated"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEY = b"XML:com.adobe.xmp"
_JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"


def xmp_packet(system: str = "") -> bytes:
    ai_system = (f"\n   <Iptc4xmpExt:AISystemUsed>{escape(system)}</Iptc4xmpExt:AISystemUsed>"
                 if system else "")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        f'    Iptc4xmpExt:DigitalSourceType="{DIGITAL_SOURCE_TYPE}"\n'
        '    xmp:CreatorTool="Likeness">'
        f'{ai_system}\n'
        '  </rdf:Description>\n'
        ' </rdf:RDF>\n'
        '</x:xmpmeta>\n'
        '<?xpacket end="r"?>'
    ).encode()


def _png_chunks(data: bytes):
    offset = len(_PNG_SIGNATURE)
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        end = offset + 12 + length
        yield data[offset + 4:offset + 8], data[offset:end]
        offset = end


def _png_with_xmp(data: bytes, packet: bytes) -> bytes:
    body = _PNG_KEY + b"\x00\x00\x00\x00\x00" + packet  # no compression, no language
    chunk = (struct.pack(">I", len(body)) + b"iTXt" + body
             + struct.pack(">I", zlib.crc32(b"iTXt" + body) & 0xFFFFFFFF))
    out = [_PNG_SIGNATURE]
    for kind, raw in _png_chunks(data):
        if kind == b"iTXt" and raw[8:8 + len(_PNG_KEY) + 1] == _PNG_KEY + b"\x00":
            continue  # the provider's own XMP: ours replaces it
        out.append(raw)
        if kind == b"IHDR":
            out.append(chunk)
    return b"".join(out)


def _jpeg_with_xmp(data: bytes, packet: bytes) -> bytes:
    segment = b"\xff\xe1" + struct.pack(">H", len(_JPEG_XMP) + len(packet) + 2) + _JPEG_XMP + packet
    out, offset, inserted = [data[:2]], 2, False
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xDA:  # start of scan: the header segments end here
            break
        (length,) = struct.unpack(">H", data[offset + 2:offset + 4])
        raw = data[offset:offset + 2 + length]
        if not inserted and marker != 0xE0:  # after JFIF's APP0, before everything else
            out.append(segment)
            inserted = True
        if not (marker == 0xE1 and raw[4:4 + len(_JPEG_XMP)] == _JPEG_XMP):
            out.append(raw)
        offset += 2 + length
    if not inserted:
        out.append(segment)
    out.append(data[offset:])
    return b"".join(out)


def _label(picture: Image.Image) -> Image.Image:
    picture = picture.convert("RGB")
    unit = max(12, min(picture.size) // 28)
    font = ImageFont.load_default(size=unit)
    draw = ImageDraw.Draw(picture, "RGBA")
    left, top, right, bottom = draw.textbbox((0, 0), VISIBLE_LABEL, font=font)
    pad = unit // 2
    x, y = pad, picture.height - (bottom - top) - 3 * pad
    draw.rounded_rectangle((x, y, x + right - left + 2 * pad, y + bottom - top + 2 * pad),
                           radius=pad, fill=(0, 0, 0, 150))
    draw.text((x + pad - left, y + pad - top), VISIBLE_LABEL, font=font, fill=(255, 255, 255))
    return picture


def stamp(data: bytes, *, system: str = "", visible: bool = False) -> bytes:
    """The image's bytes with the provenance metadata (and the visible label, if asked)."""
    webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if not (data.startswith((_PNG_SIGNATURE, b"\xff\xd8")) or webp):
        return data  # not an image we keep: generation.images refuses it
    packet = xmp_packet(system)
    if visible or webp:
        try:
            with Image.open(io.BytesIO(data)) as picture:
                fmt = picture.format
                picture = _label(picture) if visible else picture.copy()
        except (OSError, ValueError, Image.DecompressionBombError):
            return data  # unreadable: generation.images says so
        out = io.BytesIO()
        if fmt == "WEBP":
            picture.save(out, format="WEBP", quality=95, xmp=packet)
            return out.getvalue()
        picture.save(out, format="PNG" if fmt == "PNG" else "JPEG",
                     **({} if fmt == "PNG" else {"quality": 95}))
        data = out.getvalue()
    if data.startswith(_PNG_SIGNATURE):
        return _png_with_xmp(data, packet)
    return _jpeg_with_xmp(data, packet)


def read_xmp(data: bytes) -> str:
    """The XMP packet of a PNG, JPEG or WebP file ("" when it has none), for tests and staff."""
    with Image.open(io.BytesIO(data)) as picture:
        raw = picture.info.get("xmp") or picture.info.get(_PNG_KEY.decode()) or b""
    return raw.decode() if isinstance(raw, bytes) else raw
