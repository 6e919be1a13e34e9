"""Region tables: the seed's indices and names, each with the vendor's real endpoint host."""

from __future__ import annotations

import pytest

from core import AliyunRegion, AmazonS3Region, QiniuRegion, StorageVendor
from core.regions import REGION_TABLES, region_info

EXPECTED = [
    (StorageVendor.QINIU, QiniuRegion.HUADONG, "s3.cn-east-1.qiniucs.com"),
    (StorageVendor.QINIU, QiniuRegion.HUABEI, "s3.cn-north-1.qiniucs.com"),
    (StorageVendor.QINIU, QiniuRegion.HUANAN, "s3.cn-south-1.qiniucs.com"),
    (StorageVendor.QINIU, QiniuRegion.BEIMEI, "s3.us-north-1.qiniucs.com"),
    (StorageVendor.AMAZON_S3, AmazonS3Region.US_EAST_1, "s3.us-east-1.amazonaws.com"),
    (StorageVendor.AMAZON_S3, AmazonS3Region.AP_SOUTHEAST_1, "s3.ap-southeast-1.amazonaws.com"),
    (StorageVendor.AMAZON_S3, AmazonS3Region.CN_NORTH_1, "s3.cn-north-1.amazonaws.com.cn"),
    (StorageVendor.AMAZON_S3, AmazonS3Region.CN_NORTHWEST_1, "s3.cn-northwest-1.amazonaws.com.cn"),
    (StorageVendor.AMAZON_S3, AmazonS3Region.US_GOV_WEST_1, "s3.us-gov-west-1.amazonaws.com"),
    (StorageVendor.ALIYUN, AliyunRegion.CN_HANGZHOU, "oss-cn-hangzhou.aliyuncs.com"),
    (StorageVendor.ALIYUN, AliyunRegion.CN_BEIJIN, "oss-cn-beijing.aliyuncs.com"),
    (StorageVendor.ALIYUN, AliyunRegion.CN_HUHEHAOTE, "oss-cn-huhehaote.aliyuncs.com"),
    (StorageVendor.ALIYUN, AliyunRegion.AP_SOUTHEAST_5, "oss-ap-southeast-5.aliyuncs.com"),
    (StorageVendor.ALIYUN, AliyunRegion.EU_EAST_1, "oss-me-east-1.aliyuncs.com"),
]


@pytest.mark.parametrize(("vendor", "region", "host"), EXPECTED)
def test_regions_map_to_real_endpoint_hosts(vendor: StorageVendor, region: int, host: str) -> None:
    assert region_info(vendor, int(region)).endpoint == host


def test_tables_follow_the_seed() -> None:
    assert len(REGION_TABLES[StorageVendor.QINIU]) == 4
    assert len(REGION_TABLES[StorageVendor.AMAZON_S3]) == 18
    assert len(REGION_TABLES[StorageVendor.ALIYUN]) == 19
    for enum in (QiniuRegion, AmazonS3Region, AliyunRegion):
        vendor = {
            QiniuRegion: StorageVendor.QINIU,
            AmazonS3Region: StorageVendor.AMAZON_S3,
            AliyunRegion: StorageVendor.ALIYUN,
        }[enum]
        for member in enum:
            row = region_info(vendor, int(member))
            assert row.name == member.name and row.label and row.label_zh


def test_unknown_region_index() -> None:
    with pytest.raises(KeyError):
        region_info(StorageVendor.QINIU, 4)
