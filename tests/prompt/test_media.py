"""Media variables: values as written → attachments, read once, checked against Converse."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from promptlab import media, request
from promptlab.errors import UsageError
from promptlab.media import Attachment, Media, check_request, describe, load, parse_value

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    media.clear_cache()


def image_bytes(fmt: str, size: tuple[int, int] = (32, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def attach(kind: str, value: Any, base: Path, var: str = "photo") -> Media:
    return load(parse_value(kind, value, base=base, var=var), var=var)


def refusal(kind: str, value: Any, base: Path, var: str = "photo") -> UsageError:
    with pytest.raises(UsageError) as caught:
        attach(kind, value, base, var)
    error = caught.value
    assert "\n" not in error.message
    assert error.message.startswith(f"{var}: ")
    assert error.hint
    return error


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def office_zip(folder: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}/document.xml", "<document/>")
    return out.getvalue()


def ole2(*streams: str) -> bytes:
    """The OLE2 signature and directory entry names: enough for content sniffing."""
    names = b"".join(s.encode("utf-16-le") + b"\x00\x00" + b"\x00" * 8 for s in streams)
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + names


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00\x00\x00\x08free"


def ebml(doctype: bytes) -> bytes:
    element = b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    header = b"\x42\x86\x81\x01" + element  # EBMLVersion 1, DocType
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(header)]) + header + b"\x18\x53\x80\x67"


# ---------------------------------------------------------------- values as written


def test_an_at_path_is_relative_to_the_base_and_keeps_its_label(tmp_path: Path) -> None:
    att = parse_value("image", "@shots/login.png", base=tmp_path, var="photo")
    assert att == Attachment("image", "@shots/login.png", path=tmp_path / "shots" / "login.png")
    assert str(att) == "@shots/login.png"


def test_an_absolute_path_stays_absolute(tmp_path: Path) -> None:
    target = tmp_path / "a.png"
    att = parse_value("image", f"@{target}", base=Path("/elsewhere"), var="photo")
    assert att.path == target


def test_a_bare_string_is_a_path_for_images_and_videos(tmp_path: Path) -> None:
    assert parse_value("image", "a.png", base=tmp_path, var="p").path == tmp_path / "a.png"
    assert parse_value("video", "c.mp4", base=tmp_path, var="v").path == tmp_path / "c.mp4"


def test_a_bare_string_is_inline_text_for_documents(tmp_path: Path) -> None:
    att = parse_value("document", "Revenue grew 4% in Q3.", base=tmp_path, var="notes")
    assert att.text == "Revenue grew 4% in Q3."
    assert att.path is None
    assert "Revenue grew" in att.label


def test_a_document_string_naming_an_existing_file_asks_for_the_at(tmp_path: Path) -> None:
    write(tmp_path / "contract.pdf", PDF)
    with pytest.raises(UsageError, match="names a file") as caught:
        parse_value("document", "contract.pdf", base=tmp_path, var="doc")
    assert "@contract.pdf" in (caught.value.hint or "")


def test_an_attachment_is_returned_as_is(tmp_path: Path) -> None:
    att = Attachment("image", "@x.png", path=tmp_path / "x.png")
    assert parse_value("image", att, base=tmp_path, var="photo") is att


def test_an_s3_uri_and_the_mapping_forms(tmp_path: Path) -> None:
    assert parse_value("video", "s3://my-bucket/clips/demo.mp4", base=tmp_path, var="v") == (
        Attachment("video", "s3://my-bucket/clips/demo.mp4", s3_uri="s3://my-bucket/clips/demo.mp4")
    )
    att = parse_value("video", {"s3": "s3://my-bucket/c.bin", "bucket_owner": "123456789012",
                                "format": "mp4"}, base=tmp_path, var="v")  # fmt: skip
    assert (att.s3_uri, att.bucket_owner, att.format) == ("s3://my-bucket/c.bin", "123456789012",
                                                          "mp4")  # fmt: skip
    assert parse_value("image", {"path": "a.png"}, base=tmp_path, var="p").path == (
        tmp_path / "a.png"
    )
    doc = parse_value("document", {"text": "# Notes", "format": "md"}, base=tmp_path, var="d")
    assert (doc.text, doc.format) == ("# Notes", "md")


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("s3://", "no bucket"),
        ("s3://my-bucket", "names no object"),
        ("s3://my-bucket/", "names no object"),
        ("s3://my-bucket/folder/", "folder"),
        ("s3://My-Bucket/key", "upper-case"),
        ("s3://ab/key", "3-63"),
        ("s3://bad_bucket/key", "may hold only"),
        ("s3://-bucket/key", "may hold only"),
        ("s3://a..b/key", "'..'"),
        ("s3://192.168.1.10/key", "IP address"),
    ],
)
def test_a_malformed_s3_uri_is_refused_in_one_line(tmp_path: Path, uri: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_value("image", uri, base=tmp_path, var="photo")
    assert caught.value.message.startswith("photo: ")
    assert problem in caught.value.message
    assert "s3://bucket/" in (caught.value.hint or "")


@pytest.mark.parametrize("owner", ["12345", "12345678901x", "1234567890123", True])
def test_a_bucket_owner_must_be_twelve_digits(tmp_path: Path, owner: Any) -> None:
    with pytest.raises(UsageError, match="12-digit"):
        parse_value("image", {"s3": "s3://bkt/a.png", "bucket_owner": owner}, base=tmp_path,
                    var="photo")  # fmt: skip


def test_a_bucket_owner_yaml_read_as_a_number_is_accepted(tmp_path: Path) -> None:
    att = parse_value("image", {"s3": "s3://bkt/a.png", "bucket_owner": 123456789012},
                      base=tmp_path, var="photo")  # fmt: skip
    assert att.bucket_owner == "123456789012"


def test_a_mapping_with_an_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        parse_value("image", {"pth": "a.png"}, base=tmp_path, var="photo")
    assert "unknown key 'pth'" in caught.value.message
    assert "path" in (caught.value.hint or "")


@pytest.mark.parametrize(
    "value",
    [{}, {"path": "a.png", "s3": "s3://bkt/a.png"}, {"path": 3}, {"path": "a.png", "format": "bmp"},
     {"path": "a.png", "bucket_owner": "123456789012"}, {"text": "hi"}],
)  # fmt: skip
def test_a_malformed_mapping_is_refused(tmp_path: Path, value: dict[str, Any]) -> None:
    with pytest.raises(UsageError) as caught:
        parse_value("image", value, base=tmp_path, var="photo")
    assert caught.value.message.startswith("photo: ")


@pytest.mark.parametrize("value", [3, 2.5, None, ["a.png"], True])
def test_a_value_that_is_not_a_string_or_mapping_is_refused(tmp_path: Path, value: Any) -> None:
    with pytest.raises(UsageError, match="must be a path") as caught:
        parse_value("image", value, base=tmp_path, var="photo")
    assert "@shots/login.png" in (caught.value.hint or "")


def test_an_empty_value_is_refused(tmp_path: Path) -> None:
    for kind, value in (("image", ""), ("image", "@"), ("document", "  ")):
        with pytest.raises(UsageError):
            parse_value(kind, value, base=tmp_path, var="x")


# ---------------------------------------------------------------- images


@pytest.mark.parametrize(
    ("pil", "fmt", "suffix"), [("PNG", "png", ".png"), ("JPEG", "jpeg", ".jpg"),
                               ("GIF", "gif", ".gif"), ("WEBP", "webp", ".webp")],
)  # fmt: skip
def test_images_are_read_with_their_format_and_pixel_size(
    tmp_path: Path, pil: str, fmt: str, suffix: str
) -> None:
    data = image_bytes(pil, (64, 48))
    write(tmp_path / f"shots/a{suffix}", data)
    m = attach("image", f"@shots/a{suffix}", tmp_path)
    assert (m.kind, m.format, m.width, m.height, m.size) == ("image", fmt, 64, 48, len(data))
    assert m.data == data
    assert m.label == f"@shots/a{suffix}"
    assert describe(m).startswith(f"image {fmt} 64×48 ")
    assert describe(m).endswith(f" sha256:{m.sha256[:8] if m.sha256 else ''}")


def test_the_format_comes_from_the_content_not_the_name(tmp_path: Path) -> None:
    write(tmp_path / "photo.jpg", image_bytes("PNG"))
    assert attach("image", "@photo.jpg", tmp_path).format == "png"


def test_a_png_name_holding_text_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "shots/a.png", "not an image\n")
    error = refusal("image", "@shots/a.png", tmp_path)
    assert error.message == ("photo: shots/a.png is not a supported image "
                             "(png, jpeg, gif, webp): its content looks like text")  # fmt: skip


def test_an_unsupported_image_names_what_it_looks_like(tmp_path: Path) -> None:
    write(tmp_path / "shots/a.bmp", image_bytes("BMP"))
    error = refusal("image", "@shots/a.bmp", tmp_path)
    assert error.message == ("photo: shots/a.bmp is not a supported image "
                             "(png, jpeg, gif, webp): its content looks like BMP")  # fmt: skip
    write(tmp_path / "a.tif", image_bytes("TIFF"))
    assert "TIFF" in refusal("image", "@a.tif", tmp_path).message


def test_an_image_over_8000_px_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("1", (8001, 2)).save(out, format="PNG")
    write(tmp_path / "wide.png", out.getvalue())
    error = refusal("image", "@wide.png", tmp_path)
    assert "8001×2 px" in error.message
    assert "8000 px" in error.message


def test_an_image_over_the_byte_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = image_bytes("PNG")
    limit = len(data) - 1
    monkeypatch.setitem(media.LIMITS, "image", media.LIMITS["image"]._replace(max_bytes=limit))
    write(tmp_path / "big.png", data)
    error = refusal("image", "@big.png", tmp_path)
    assert f"big.png is {len(data):,} bytes" in error.message
    assert f"over Converse's {limit} B limit for an image" in error.message


def test_the_documented_limits() -> None:
    assert media.LIMITS["image"] == media.Limit(3_932_160, 20, 8000)
    assert media.LIMITS["document"] == media.Limit(4_718_592, 5)
    assert media.LIMITS["video"] == media.Limit(26_214_400, 1)


def test_a_damaged_image_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "cut.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    assert "damaged" in (refusal("image", "@cut.png", tmp_path).hint or "")


# ---------------------------------------------------------------- documents


def test_a_pdf_is_a_document_named_after_its_file(tmp_path: Path) -> None:
    write(tmp_path / "docs/contract v2.final.pdf", PDF)
    m = attach("document", "@docs/contract v2.final.pdf", tmp_path, var="contract")
    assert (m.format, m.name, m.size) == ("pdf", "contract v2-final", len(PDF))
    assert describe(m).startswith("document pdf 'contract v2-final' ")


@pytest.mark.parametrize(("folder", "fmt"), [("word", "docx"), ("xl", "xlsx")])
def test_office_files_are_told_apart_by_their_zip_entries(
    tmp_path: Path, folder: str, fmt: str
) -> None:
    write(tmp_path / "report.bin", office_zip(folder))
    assert attach("document", "@report.bin", tmp_path, var="doc").format == fmt


def test_a_pptx_and_a_plain_zip_are_refused_by_name(tmp_path: Path) -> None:
    write(tmp_path / "deck.pptx", office_zip("ppt"))
    assert "PowerPoint" in refusal("document", "@deck.pptx", tmp_path, var="doc").message
    write(tmp_path / "a.docx", office_zip("other"))
    assert "ZIP archive" in refusal("document", "@a.docx", tmp_path, var="doc").message


def test_legacy_office_files_are_told_apart_by_their_streams(tmp_path: Path) -> None:
    write(tmp_path / "a.bin", ole2("Root Entry", "WordDocument"))
    write(tmp_path / "b.bin", ole2("Root Entry", "Workbook"))
    assert attach("document", "@a.bin", tmp_path, var="doc").format == "doc"
    assert attach("document", "@b.bin", tmp_path, var="doc").format == "xls"


def test_an_unidentified_ole2_file_falls_back_to_its_name_with_a_notice(tmp_path: Path) -> None:
    write(tmp_path / "old.xls", ole2("Root Entry"))
    m = attach("document", "@old.xls", tmp_path, var="doc")
    assert m.format == "xls"
    assert m.notice and "by its name" in m.notice
    write(tmp_path / "old.bin", ole2("Root Entry"))
    assert "neither" in refusal("document", "@old.bin", tmp_path, var="doc").message


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [("data.csv", "a,b\n1,2\n", "csv"), ("README.md", "# Title\n", "md"),
     ("notes.markdown", "*x*", "md"), ("notes.txt", "plain words", "txt"),
     ("app.log", "ünïcode line\n", "txt"), ("part.html", "<p>fragment</p>", "html"),
     ("page.txt", "\ufeff  <!DOCTYPE html><html></html>", "html")],
)  # fmt: skip
def test_text_documents_take_their_format_from_the_name(
    tmp_path: Path, name: str, content: str, fmt: str
) -> None:
    write(tmp_path / name, content)
    assert attach("document", f"@{name}", tmp_path, var="doc").format == fmt


def test_a_format_key_chooses_among_text_formats_and_checks_others(tmp_path: Path) -> None:
    write(tmp_path / "table.dat", "a,b\n1,2\n")
    assert attach("document", {"path": "table.dat", "format": "csv"}, tmp_path, "doc").format == (
        "csv"
    )
    write(tmp_path / "c.pdf", PDF)
    error = refusal("document", {"path": "c.pdf", "format": "docx"}, tmp_path, var="doc")
    assert "pdf by its content, not docx" in error.message


def test_binary_content_is_not_a_text_document(tmp_path: Path) -> None:
    write(tmp_path / "blob.txt", b"\x00\x01\x02binary")
    assert "not a supported document" in refusal("document", "@blob.txt", tmp_path, "doc").message
    write(tmp_path / "wide.txt", "hello".encode("utf-16"))
    assert "UTF-16" in refusal("document", "@wide.txt", tmp_path, "doc").message


def test_inline_text_is_a_txt_document_named_after_the_variable(tmp_path: Path) -> None:
    m = attach("document", "Revenue grew 4% in Q3.", tmp_path, var="q3_notes")
    assert (m.format, m.name, m.data, m.path) == ("txt", "q3-notes", None, None)
    assert m.text == "Revenue grew 4% in Q3."
    assert m.size == len(b"Revenue grew 4% in Q3.")
    assert describe(m).startswith("document txt 'q3-notes' inline 22 B sha256:")
    assert m.block().to_converse()["document"]["source"] == {"text": "Revenue grew 4% in Q3."}


def test_a_document_name_can_be_given_and_must_be_valid(tmp_path: Path) -> None:
    write(tmp_path / "c.pdf", PDF)
    assert attach("document", {"path": "c.pdf", "name": "Q3 (final)"}, tmp_path, "d").name == (
        "Q3 (final)"
    )
    with pytest.raises(UsageError, match="not a name") as caught:
        parse_value("document", {"path": "c.pdf", "name": "q3_final.pdf"}, base=tmp_path, var="d")
    assert "'q3-final-pdf'" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("raw", "name"),
    [("contract", "contract"), ("my_file.v2", "my-file-v2"), ("a  \t b", "a b"),
     ("[draft] (2)", "[draft] (2)"), ("__", "fallback"), ("x" * 250, "x" * 200),
     ("résumé", "r-sum")],
)  # fmt: skip
def test_document_names_keep_only_what_converse_allows(raw: str, name: str) -> None:
    assert media.document_name(raw, "fallback") == name


# ---------------------------------------------------------------- video


@pytest.mark.parametrize(
    ("data", "fmt"),
    [(ftyp(b"isom", b"isom", b"mp41"), "mp4"), (ftyp(b"qt  ", b"qt  "), "mov"),
     (ftyp(b"3gp4", b"3gp4"), "three_gp"), (ebml(b"webm"), "webm"),
     (ebml(b"matroska"), "mkv"), (b"FLV\x01\x05" + b"\x00" * 20, "flv"),
     (b"\x00\x00\x01\xba" + b"\x44" * 20, "mpeg"),
     (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + b"\x00" * 20, "wmv")],
)  # fmt: skip
def test_videos_are_told_apart_by_their_headers(tmp_path: Path, data: bytes, fmt: str) -> None:
    write(tmp_path / "clip.bin", data)
    m = attach("video", "@clip.bin", tmp_path, var="clip")
    assert m.format == fmt
    assert isinstance(m.block(), request.Video)


def test_an_mpeg_stream_named_mpg_is_mpg(tmp_path: Path) -> None:
    write(tmp_path / "clip.mpg", b"\x00\x00\x01\xba" + b"\x44" * 20)
    assert attach("video", "@clip.mpg", tmp_path, var="clip").format == "mpg"


def test_an_iso_file_that_is_an_image_is_not_a_video(tmp_path: Path) -> None:
    write(tmp_path / "photo.mp4", ftyp(b"heic", b"mif1", b"heic"))
    assert "HEIF" in refusal("video", "@photo.mp4", tmp_path, var="clip").message


def test_a_large_video_is_refused_with_the_s3_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(media.LIMITS, "video", media.LIMITS["video"]._replace(max_bytes=10))
    write(tmp_path / "long.mp4", ftyp(b"isom"))
    error = refusal("video", "@long.mp4", tmp_path, var="clip")
    assert "over Converse's 10 B limit for a video" in error.message
    assert "s3://" in (error.hint or "")


# ---------------------------------------------------------------- S3


def test_s3_formats_come_from_the_key(tmp_path: Path) -> None:
    m = attach("video", "s3://bkt/clips/demo.MP4", tmp_path, var="clip")
    assert (m.format, m.data, m.size, m.sha256) == ("mp4", None, None, None)
    assert describe(m) == "video mp4 s3://bkt/clips/demo.MP4"
    doc = attach("document", "s3://bkt/legal/contract.final.pdf", tmp_path, var="doc")
    assert (doc.format, doc.name) == ("pdf", "contract-final")
    assert attach("image", "s3://bkt/x.jpg", tmp_path).format == "jpeg"


def test_an_s3_key_without_a_known_extension_asks_for_a_format(tmp_path: Path) -> None:
    error = refusal("video", "s3://bkt/clips/demo", tmp_path, var="clip")
    assert "cannot tell the video format" in error.message
    assert "format: ..." in (error.hint or "")
    m = attach("video", {"s3": "s3://bkt/clips/demo", "format": "3gp"}, tmp_path, var="clip")
    assert m.format == "three_gp"


def test_an_s3_block_carries_the_location_and_owner(tmp_path: Path) -> None:
    value = {"s3": "s3://bkt/a.png", "bucket_owner": "123456789012"}
    block = attach("image", value, tmp_path).block().to_converse()
    assert block == {"image": {"format": "png", "source": {"s3Location": {
        "uri": "s3://bkt/a.png", "bucketOwner": "123456789012"}}}}  # fmt: skip


# ---------------------------------------------------------------- file errors


def test_a_missing_file_is_named_as_written(tmp_path: Path) -> None:
    error = refusal("image", "@shots/nope.png", tmp_path)
    assert error.message == "photo: shots/nope.png does not exist"
    assert str(tmp_path / "shots" / "nope.png") in (error.hint or "")


def test_a_url_is_not_fetched(tmp_path: Path) -> None:
    error = refusal("image", "https://example.com/a.png", tmp_path)
    assert "not fetched" in (error.hint or "")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shots").mkdir()
    assert "is a directory" in refusal("image", "@shots", tmp_path).message


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.png", b"")
    assert refusal("image", "@a.png", tmp_path).message == "photo: a.png is empty"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.png", image_bytes("PNG"))
    path.chmod(0)
    try:
        assert "permission denied" in refusal("image", "@secret.png", tmp_path).message
    finally:
        path.chmod(0o644)


# ---------------------------------------------------------------- reading once


def test_two_loads_share_one_bytes_object(tmp_path: Path) -> None:
    write(tmp_path / "shots/a.png", image_bytes("PNG"))
    first = attach("image", "@shots/a.png", tmp_path)
    second = attach("image", f"@{tmp_path / 'shots' / 'a.png'}", tmp_path)
    assert first.data is second.data
    assert first.block().to_converse()["image"]["source"]["bytes"] is first.data


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path / "a.png", image_bytes("PNG", (10, 10)))
    before = attach("image", "@a.png", tmp_path)
    write(path, image_bytes("PNG", (20, 30)))
    after = attach("image", "@a.png", tmp_path)
    assert (after.width, after.height) == (20, 30)
    assert after.sha256 != before.sha256
    # same size, new mtime: read again too
    same_size = bytes(after.data or b"")
    path.write_bytes(same_size)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = attach("image", "@a.png", tmp_path)
    assert again.data == after.data
    assert again.data is not after.data


def test_concurrent_loads_read_the_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.png", image_bytes("PNG"))
    opened: list[str] = []
    real_open = open

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(media, "open", counting_open, raising=False)
    results: list[Media] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        results.append(attach("image", "@a.png", tmp_path))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert len(opened) == 1
    assert all(m.data is results[0].data for m in results)


def test_twenty_images_are_held_once_each(tmp_path: Path) -> None:
    for i in range(20):
        write(tmp_path / f"s/{i}.png", image_bytes("PNG", (i + 1, 1)))
    items = [(f"p{i}", attach("image", f"@s/{i}.png", tmp_path, f"p{i}")) for i in range(20)]
    check_request(items)
    again = [attach("image", f"@s/{i}.png", tmp_path, f"p{i}") for i in range(20)]
    assert all(a.data is m.data for a, (_, m) in zip(again, items, strict=True))


def test_importing_media_does_not_import_pillow() -> None:
    code = "import sys, promptlab.media; print('PIL' in sys.modules, 'zipfile' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------- per request


def fake(kind: str, name: str = "") -> Media:
    return Media(kind, "png" if kind == "image" else "pdf", name, "@x", None, b"x", None, None,
                 None, 1, "00")  # fmt: skip


def test_a_request_takes_at_most_20_images_5_documents_and_1_video() -> None:
    check_request([(f"i{n}", fake("image")) for n in range(20)])
    check_request([(f"d{n}", fake("document", f"doc {n}")) for n in range(5)])
    with pytest.raises(UsageError, match=r"21 images in one request \(i0, .*i20\).*at most 20"):
        check_request([(f"i{n}", fake("image")) for n in range(21)])
    with pytest.raises(UsageError, match=r"6 documents .* at most 5"):
        check_request([(f"d{n}", fake("document", f"doc {n}")) for n in range(6)])
    with pytest.raises(UsageError, match=r"2 videos in one request \(a, b\)"):
        check_request([("a", fake("video")), ("b", fake("video"))])


def test_two_documents_with_one_name_are_refused_naming_both() -> None:
    items = [("contract", fake("document", "terms")), ("photo", fake("image")),
             ("annex", fake("document", "terms"))]  # fmt: skip
    with pytest.raises(UsageError) as caught:
        check_request(items)
    assert caught.value.message.startswith("documents contract and annex are both named 'terms'")
    assert "name:" in (caught.value.hint or "")


def test_a_document_block_carries_citations_and_context(tmp_path: Path) -> None:
    write(tmp_path / "c.pdf", PDF)
    m = attach("document", "@c.pdf", tmp_path, var="doc")
    block = m.block(citations=True, context="the signed version")
    assert isinstance(block, request.Document)
    assert block.to_converse() == {"document": {
        "format": "pdf", "name": "c", "source": {"bytes": PDF},
        "context": "the signed version", "citations": {"enabled": True}}}  # fmt: skip


def test_describe_sizes() -> None:
    assert media.human_size(512) == "512 B"
    assert media.human_size(186_778) == "182.4 KB"
    assert media.human_size(media.LIMITS["image"].max_bytes, exact=True) == "3.75 MB"
