"""Evidence photos in-process (no broker): upload, sniffing, EXIF, limits, bombs, park scope, and a
milestone citing a photo of another day (accepted with a warning, counted by R16)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sanpi.kit import Role
from tests.support.apps import auth
from tests.support.images import jpeg, jpeg_declaring, png_declaring
from tests.support.milestone import Milestones, milestone_service, operator

MAX_BYTES = 64 * 1024


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Milestones]:
    async with milestone_service(tmp_path, evidence_max_bytes=MAX_BYTES) as service:
        await service.register("p1")
        await service.register("p2", name="枫杨新材料", park="枫杨")
        yield service


async def upload(
    svc: Milestones,
    data: bytes,
    *,
    project_id: str = "p1",
    name: str = "site.jpg",
    declared: str = "image/jpeg",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await svc.client.post(
        f"/v1/projects/{project_id}/evidence",
        files={"file": (name, data, declared)},
        headers=headers or {},
    )


def refused(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert [e["field"] for e in body["errors"]] == ["file"]
    return body


async def test_a_photo_is_stored_with_its_checksum_type_size_and_exif_day(
    svc: Milestones, tmp_path: Path
) -> None:
    photo = jpeg("2023:03:01 09:30:00", size=(80, 60), gps=(34.76, 113.62))
    response = await upload(svc, photo, name="C:\\fakepath\\开工现场.jpg", declared="text/plain")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["uri"] == f"/v1/evidence/{body['id']}"
    assert body["sha256"] == hashlib.sha256(photo).hexdigest()
    assert (body["size_bytes"], body["content_type"]) == (len(photo), "image/jpeg")
    assert (body["width"], body["height"], body["filename"]) == (80, 60, "开工现场.jpg")
    # 09:30 in Zhengzhou (no offset in the EXIF) is 01:30 UTC.
    assert (body["captured_at"], body["captured_on"]) == ("2023-03-01T01:30:00Z", "2023-03-01")
    assert (body["latitude"], body["longitude"]) == pytest.approx((34.76, 113.62), abs=1e-4)
    assert (body["project_id"], body["uploaded_by"]) == ("p1", "admin-1")
    stored = tmp_path / "evidence" / body["sha256"][:2] / body["sha256"]
    assert stored.read_bytes() == photo

    got = await svc.client.get(body["uri"], headers=auth(Role.VIEWER))
    assert got.status_code == 200
    assert (got.headers["content-type"], got.content) == ("image/jpeg", photo)
    assert got.headers["etag"] == f'"{body["sha256"]}"'
    assert (await svc.client.get(body["uri"])).status_code == 200
    assert (await svc.client.get("/v1/evidence/nope")).status_code == 404
    assert (await svc.client.get(body["uri"], headers={"Authorization": ""})).status_code == 401

    again = await upload(svc, photo, name="again.jpg")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    undated = await upload(svc, jpeg(None, colour="blue"), name="no-exif.jpg")
    assert undated.status_code == 201
    assert (undated.json()["captured_at"], undated.json()["captured_on"]) == (None, None)

    page = (await svc.client.get("/v1/projects/p1/evidence", params={"limit": 1})).json()
    assert [i["id"] for i in page["items"]] == [body["id"]]
    rest = await svc.client.get(
        "/v1/projects/p1/evidence", params={"limit": 1, "cursor": page["next_cursor"]}
    )
    assert [i["id"] for i in rest.json()["items"]] == [undated.json()["id"]]
    assert rest.json()["next_cursor"] is None
    timeline = (await svc.client.get("/v1/projects/p1/timeline")).json()["items"]
    uploads = [i for i in timeline if i["event_type"] == "evidence.uploaded"]
    assert [u["summary"] for u in uploads] == [
        "上传照片 开工现场.jpg（拍摄于2023年3月1日）",
        "上传照片 no-exif.jpg（无拍摄时间）",
    ]
    assert uploads[0]["data"]["uri"] == body["uri"]


async def test_what_is_not_an_image_is_refused_by_its_bytes(svc: Milestones) -> None:
    text = refused(await upload(svc, b"%PDF-1.4 not a photo at all", name="photo.jpg"))
    assert text["detail"] == "「文件」：不是可识别的图片（支持 JPEG、PNG、WebP 格式的照片）"
    gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    refused(await upload(svc, gif, name="site.jpg", declared="image/jpeg"))
    empty = refused(await upload(svc, b""))
    assert empty["errors"][0]["reason"] == "文件是空的"
    english = refused(await upload(svc, b"<svg/>", headers={"Accept-Language": "en"}))
    assert english["errors"][0]["reason"] == "not an image Pillow can read as JPEG, PNG or WebP"
    missing = await svc.client.post("/v1/projects/p1/evidence", data={"other": "x"})
    assert refused(missing)["errors"][0]["reason"] == "请选择要上传的照片（表单字段 file）"
    assert (await svc.client.get("/v1/projects/p1/evidence")).json()["items"] == []


async def test_a_file_over_the_limit_is_refused_naming_the_field(svc: Milestones) -> None:
    big = jpeg(size=(900, 900), colour="green") + b"\x00" * MAX_BYTES
    assert MAX_BYTES < len(big) < 2 * MAX_BYTES
    body = refused(await upload(svc, big), 413)
    assert body["detail"] == "「文件」：文件超过 0.1 MB 的上限，请压缩后再上传"
    # Far above it, the body limit refuses before the route reads anything.
    huge = await upload(svc, b"\xff" * (3 * MAX_BYTES))
    assert huge.status_code == 413
    assert (await svc.client.get("/v1/projects/p1/evidence")).json()["items"] == []


@pytest.mark.parametrize(
    ("bomb", "says"),
    [
        (png_declaring(9_000, 9_000), "9000×9000 像素"),  # above our 60 M, below Pillow's 89 M
        (png_declaring(100_000, 100_000), "远超上限"),  # Pillow's own DecompressionBombError
        (jpeg_declaring(10_000, 7_000), "10000×7000 像素"),
        (jpeg_declaring(65_000, 65_000), "远超上限"),
    ],
)
async def test_decompression_bombs_are_refused_before_decoding(
    svc: Milestones, bomb: bytes, says: str
) -> None:
    assert len(bomb) < 2_000
    body = refused(await upload(svc, bomb, name="bomb.png"))
    assert says in body["detail"]
    assert "疑似解压炸弹" in body["detail"]


async def test_only_an_operator_of_the_projects_park_or_an_admin_uploads(
    svc: Milestones,
) -> None:
    photo = jpeg()
    other_park = await upload(svc, photo, headers=operator("枫杨"))
    assert other_park.status_code == 403, other_park.text
    assert (await upload(svc, photo, headers=auth(Role.VIEWER))).status_code == 403
    assert (await upload(svc, photo, project_id="nope")).status_code == 404
    mine = await upload(svc, photo, headers=operator("梧桐"))
    assert (mine.status_code, mine.json()["uploaded_by"]) == (201, "op-1")


async def test_a_milestone_photo_of_another_day_is_accepted_with_a_warning_for_r16(
    svc: Milestones,
) -> None:
    photo = (await upload(svc, jpeg("2023:03:01 17:45:00"))).json()
    started = await svc.post(
        "p1/milestones", {"kind": "STARTED", "date": "2023-03-05", "evidence": [photo["uri"]]}
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["stage"] == "UNDER_CONSTRUCTION"  # the EXIF day dates the evidence
    assert body["warnings"] == [
        {
            "code": "PHOTO_DATE_MISMATCH",
            "field": "evidence.0",
            "message": "照片拍摄于2023年3月1日，与里程碑日期2023年3月5日不一致",
        }
    ]
    assert body["evidence_detail"] == [
        {
            "uri": photo["uri"],
            "taken_at": "2023-03-01",
            "dated_on": "2023-03-01",
            "evidence_id": photo["id"],
            "captured_on": "2023-03-01",
        }
    ]
    (achieved,) = await svc.events("sanpi.milestone.achieved")
    assert achieved["data"]["photos"] == [
        {
            "evidence_id": photo["id"],
            "uri": photo["uri"],
            "sha256": photo["sha256"],
            "captured_on": "2023-03-01",
            "date_matches": False,
        }
    ]
    plan = (await svc.client.get("/v1/projects/p1/milestones")).json()["items"]
    cited = next(m for m in plan if m["kind"] == "STARTED")["evidence"]
    assert [e["evidence_id"] for e in cited] == [photo["id"]]
    timeline = (await svc.client.get("/v1/projects/p1/timeline")).json()["items"]
    assert any(
        "照片 1 张 (1 张未能证明当日拍摄)" in i["summary"]
        for i in timeline
        if i["event_type"] == "sanpi.milestone.achieved.v1"
    )

    await svc.evaluate("2023-03-10")
    (alert,) = [
        a
        for a in (await svc.client.get("/v1/alerts", params={"rule": "R16"})).json()["items"]
        if a["project_id"] == "p1"
    ]
    assert alert["severity"] == "yellow"
    assert "照片拍摄于 2023-03-01, 与里程碑日期不一致" in alert["message"]
    # Outside R16's 90-day window the finding no longer counts.
    await svc.evaluate("2023-06-10")
    firing = (await svc.client.get("/v1/alerts", params={"rule": "R16", "state": "FIRING"})).json()
    assert [a for a in firing["items"] if a["project_id"] == "p1"] == []


async def test_an_undated_photo_warns_and_a_matching_one_does_not(svc: Milestones) -> None:
    undated = (await upload(svc, jpeg(None))).json()
    same_day = (await upload(svc, jpeg("2023:03:05 08:00:00", colour="blue"))).json()
    # The undated photo alone does not date a start (409), as an undated URI does not.
    alone = await svc.post(
        "p1/milestones", {"kind": "STARTED", "date": "2023-03-05", "evidence": [undated["uri"]]}
    )
    assert alone.status_code == 409, alone.text
    both = await svc.post(
        "p1/milestones",
        {"kind": "STARTED", "date": "2023-03-05", "evidence": [same_day["uri"], undated["uri"]]},
        headers={"Accept-Language": "en"},
    )
    assert both.status_code == 201, both.text
    assert both.json()["warnings"] == [
        {
            "code": "PHOTO_UNDATED",
            "field": "evidence.1",
            "message": "the photo has no capture date (EXIF): it cannot show it was taken on "
            "2023-03-05",
        }
    ]
    (achieved,) = await svc.events("sanpi.milestone.achieved")
    assert [p["date_matches"] for p in achieved["data"]["photos"]] == [True, False]
    later = (await upload(svc, jpeg("2023:06:01 08:00:00", colour="green"))).json()
    topped = await svc.post(
        "p1/milestones",
        {"kind": "TOPPED_OUT", "date": "2023-06-01", "evidence": [later["uri"]]},
    )
    assert topped.json()["warnings"] == []


async def test_a_milestone_may_cite_only_its_own_projects_uploads(svc: Milestones) -> None:
    theirs = (await upload(svc, jpeg(), project_id="p2")).json()
    other = await svc.post(
        "p1/milestones", {"kind": "STARTED", "date": "2023-03-01", "evidence": [theirs["uri"]]}
    )
    assert other.status_code == 422
    assert [e["field"] for e in other.json()["errors"]] == ["evidence.0.uri"]
    unknown = await svc.post(
        "p1/milestones",
        {
            "kind": "STARTED",
            "date": "2023-03-01",
            "evidence": [
                "https://x/2023-03-01.jpg",
                {"uri": "http://milestone:8002/v1/evidence/00000000-0000-0000-0000-000000000000"},
            ],
        },
    )
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["evidence.1.uri"]
    assert await svc.events("sanpi.milestone.achieved") == []
