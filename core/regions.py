"""Region tables of the seed's storage vendors and their S3-compatible endpoints.

Every seed region index maps to the vendor's real S3-compatible endpoint host and the
region name used in the Signature V4 credential scope. Qiniu Kodo and Aliyun OSS are
reached through their S3-compatible APIs, so one uploader serves all three vendors.

Sources: Amazon S3 regional endpoints (``s3.<region>.amazonaws.com``, ``.com.cn`` in
China); Qiniu Kodo's S3-compatible endpoints (``s3.<region>.qiniucs.com``); Aliyun OSS
endpoints (``oss-<region>.aliyuncs.com``). The seed's Aliyun region 18 ``EU_East_1``
has no OSS region of that name; Aliyun's Middle East (Dubai) region ``me-east-1`` is
the region Agora's later tables mean by it, so it maps there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from core.enums import AliyunRegion, AmazonS3Region, QiniuRegion, StorageVendor


@dataclass(frozen=True)
class RegionInfo:
    """One row of a vendor's region table."""

    vendor: StorageVendor
    index: int
    name: str  # the seed's name, e.g. "US_EAST_1"
    label: str  # human name in English
    label_zh: str  # human name in Simplified Chinese
    signing_region: str  # the SigV4 credential-scope region
    endpoint: str  # S3-compatible endpoint host (no scheme)


def _s3(member: AmazonS3Region, label: str, label_zh: str) -> RegionInfo:
    region = member.name.lower().replace("_", "-")
    suffix = ".amazonaws.com.cn" if region.startswith("cn-") else ".amazonaws.com"
    return RegionInfo(
        StorageVendor.AMAZON_S3,
        int(member),
        member.name,
        label,
        label_zh,
        region,
        f"s3.{region}{suffix}",
    )


def _qiniu(member: QiniuRegion, region: str, label: str, label_zh: str) -> RegionInfo:
    return RegionInfo(
        StorageVendor.QINIU,
        int(member),
        member.name,
        label,
        label_zh,
        region,
        f"s3.{region}.qiniucs.com",
    )


def _aliyun(member: AliyunRegion, region: str, label: str, label_zh: str) -> RegionInfo:
    return RegionInfo(
        StorageVendor.ALIYUN,
        int(member),
        member.name,
        label,
        label_zh,
        region,
        f"oss-{region}.aliyuncs.com",
    )


_Q, _S, _A = QiniuRegion, AmazonS3Region, AliyunRegion

QINIU_REGIONS: tuple[RegionInfo, ...] = (
    _qiniu(_Q.HUADONG, "cn-east-1", "East China", "华东"),
    _qiniu(_Q.HUABEI, "cn-north-1", "North China", "华北"),
    _qiniu(_Q.HUANAN, "cn-south-1", "South China", "华南"),
    _qiniu(_Q.BEIMEI, "us-north-1", "North America", "北美"),
)

AMAZON_S3_REGIONS: tuple[RegionInfo, ...] = (
    _s3(_S.US_EAST_1, "US East (N. Virginia)", "美国东部（弗吉尼亚北部）"),
    _s3(_S.US_EAST_2, "US East (Ohio)", "美国东部（俄亥俄）"),
    _s3(_S.US_WEST_1, "US West (N. California)", "美国西部（加利福尼亚北部）"),
    _s3(_S.US_WEST_2, "US West (Oregon)", "美国西部（俄勒冈）"),
    _s3(_S.EU_WEST_1, "Europe (Ireland)", "欧洲（爱尔兰）"),
    _s3(_S.EU_WEST_2, "Europe (London)", "欧洲（伦敦）"),
    _s3(_S.EU_WEST_3, "Europe (Paris)", "欧洲（巴黎）"),
    _s3(_S.EU_CENTRAL_1, "Europe (Frankfurt)", "欧洲（法兰克福）"),
    _s3(_S.AP_SOUTHEAST_1, "Asia Pacific (Singapore)", "亚太（新加坡）"),
    _s3(_S.AP_SOUTHEAST_2, "Asia Pacific (Sydney)", "亚太（悉尼）"),
    _s3(_S.AP_NORTHEAST_1, "Asia Pacific (Tokyo)", "亚太（东京）"),
    _s3(_S.AP_NORTHEAST_2, "Asia Pacific (Seoul)", "亚太（首尔）"),
    _s3(_S.SA_EAST_1, "South America (São Paulo)", "南美洲（圣保罗）"),
    _s3(_S.CA_CENTRAL_1, "Canada (Central)", "加拿大（中部）"),
    _s3(_S.AP_SOUTH_1, "Asia Pacific (Mumbai)", "亚太（孟买）"),
    _s3(_S.CN_NORTH_1, "China (Beijing)", "中国（北京）"),
    _s3(_S.CN_NORTHWEST_1, "China (Ningxia)", "中国（宁夏）"),
    _s3(_S.US_GOV_WEST_1, "AWS GovCloud (US-West)", "AWS GovCloud（美国西部）"),
)

ALIYUN_REGIONS: tuple[RegionInfo, ...] = (
    _aliyun(_A.CN_HANGZHOU, "cn-hangzhou", "China (Hangzhou)", "华东1（杭州）"),
    _aliyun(_A.CN_SHANGHAI, "cn-shanghai", "China (Shanghai)", "华东2（上海）"),
    _aliyun(_A.CN_QINGDAO, "cn-qingdao", "China (Qingdao)", "华北1（青岛）"),
    _aliyun(_A.CN_BEIJIN, "cn-beijing", "China (Beijing)", "华北2（北京）"),
    _aliyun(_A.CN_ZHANGJIAKOU, "cn-zhangjiakou", "China (Zhangjiakou)", "华北3（张家口）"),
    _aliyun(_A.CN_HUHEHAOTE, "cn-huhehaote", "China (Hohhot)", "华北5（呼和浩特）"),
    _aliyun(_A.CN_SHENZHEN, "cn-shenzhen", "China (Shenzhen)", "华南1（深圳）"),
    _aliyun(_A.CN_HONGKONG, "cn-hongkong", "China (Hong Kong)", "中国香港"),
    _aliyun(_A.US_WEST_1, "us-west-1", "US (Silicon Valley)", "美国（硅谷）"),
    _aliyun(_A.US_EAST_1, "us-east-1", "US (Virginia)", "美国（弗吉尼亚）"),
    _aliyun(_A.AP_SOUTHEAST_1, "ap-southeast-1", "Singapore", "新加坡"),
    _aliyun(_A.AP_SOUTHEAST_2, "ap-southeast-2", "Australia (Sydney)", "澳大利亚（悉尼）"),
    _aliyun(_A.AP_SOUTHEAST_3, "ap-southeast-3", "Malaysia (Kuala Lumpur)", "马来西亚（吉隆坡）"),
    _aliyun(_A.AP_SOUTHEAST_5, "ap-southeast-5", "Indonesia (Jakarta)", "印度尼西亚（雅加达）"),
    _aliyun(_A.AP_NORTHEAST_1, "ap-northeast-1", "Japan (Tokyo)", "日本（东京）"),
    _aliyun(_A.AP_SOUTH_1, "ap-south-1", "India (Mumbai)", "印度（孟买）"),
    _aliyun(_A.EU_CENTRAL_1, "eu-central-1", "Germany (Frankfurt)", "德国（法兰克福）"),
    _aliyun(_A.EU_WEST_1, "eu-west-1", "UK (London)", "英国（伦敦）"),
    _aliyun(_A.EU_EAST_1, "me-east-1", "UAE (Dubai)", "阿联酋（迪拜）"),
)

REGION_TABLES: dict[StorageVendor, tuple[RegionInfo, ...]] = {
    StorageVendor.QINIU: QINIU_REGIONS,
    StorageVendor.AMAZON_S3: AMAZON_S3_REGIONS,
    StorageVendor.ALIYUN: ALIYUN_REGIONS,
}

REGION_ENUMS: dict[StorageVendor, type[IntEnum]] = {
    StorageVendor.QINIU: QiniuRegion,
    StorageVendor.AMAZON_S3: AmazonS3Region,
    StorageVendor.ALIYUN: AliyunRegion,
}


def regions_of(vendor: StorageVendor) -> tuple[RegionInfo, ...]:
    """The region table of a cloud vendor (empty for the local folder)."""
    return REGION_TABLES.get(StorageVendor(vendor), ())


def region_info(vendor: StorageVendor, region: int) -> RegionInfo:
    """The row for ``region`` of ``vendor``; raises KeyError when it is not in the table."""
    table = regions_of(vendor)
    if not 0 <= region < len(table):
        raise KeyError(region)
    return table[region]
