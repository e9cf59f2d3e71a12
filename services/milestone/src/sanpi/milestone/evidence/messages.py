"""What an evidence upload is refused for, and the warnings a milestone's photos earn, in Chinese
and English."""

from __future__ import annotations

import datetime as dt

from sanpi.kit.messages import Bilingual, template, zh_date

NO_FILE = template(
    "evidence.no_file",
    zh="请选择要上传的照片（表单字段 file）",
    en="no file: send the photo as the multipart field `file`",
)
EMPTY = template("evidence.empty", zh="文件是空的", en="the file is empty")
TOO_LARGE = template(
    "evidence.too_large",
    zh="文件超过 {limit_mb} MB 的上限，请压缩后再上传",
    en="the file is larger than the {limit_mb} MB limit",
)
NOT_AN_IMAGE = template(
    "evidence.not_an_image",
    zh="不是可识别的图片（支持 JPEG、PNG、WebP 格式的照片）",
    en="not an image Pillow can read as JPEG, PNG or WebP",
)
DAMAGED = template(
    "evidence.damaged", zh="图片已损坏，无法读取", en="the image is damaged: {reason}"
)
BOMB = template(
    "evidence.too_many_pixels",
    zh="图片声明的尺寸过大（{width}×{height} 像素，上限 {limit} 万像素），疑似解压炸弹，已拒绝",
    en="the image declares {width}×{height} pixels, above the limit of {megapixels} megapixels: "
    "refused as a possible decompression bomb",
)
BOMB_HUGE = template(
    "evidence.far_too_many_pixels",
    zh="图片声明的尺寸远超上限（{limit} 万像素），疑似解压炸弹，已拒绝",
    en="the image declares far more pixels than the limit of {megapixels} megapixels: refused as "
    "a possible decompression bomb",
)
CITES_UNUSABLE = template(
    "evidence.cites_unusable",
    zh="里程碑引用了不能使用的佐证材料",
    en="the milestone cites evidence it cannot use",
)
UNKNOWN_EVIDENCE = template(
    "evidence.unknown",
    zh="照片 {evidence_id} 不存在，请先上传",
    en="no evidence {evidence_id}: upload it first",
)
OTHER_PROJECT = template(
    "evidence.other_project",
    zh="照片 {evidence_id} 是为另一个项目上传的",
    en="evidence {evidence_id} was uploaded for another project",
)
DATE_MISMATCH = template(
    "PHOTO_DATE_MISMATCH",
    zh="照片拍摄于{captured}，与里程碑日期{date}不一致",
    en="the photo was taken on {captured}, not on the milestone's date {date}",
)
UNDATED = template(
    "PHOTO_UNDATED",
    zh="照片没有拍摄时间（EXIF），无法核对是否摄于{date}",
    en="the photo has no capture date (EXIF): it cannot show it was taken on {date}",
)


def day(value: dt.date) -> Bilingual:
    """A day as each language writes it: 2023年3月1日 / 2023-03-01."""
    return Bilingual(zh_date(value), value.isoformat())


NO_EVIDENCE = template(
    "evidence.missing", zh="照片 {evidence_id} 不存在", en="no evidence {evidence_id}"
)
FILE_GONE = template(
    "evidence.file_gone",
    zh="照片 {evidence_id} 的文件不在照片库中",
    en="the file of evidence {evidence_id} is missing from the evidence store",
)
