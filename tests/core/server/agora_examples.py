"""Request bodies copied from Agora's RESTful Cloud Recording reference (docs.agora.io,
"Cloud Recording" > "RESTful API"; the same pages as AgoraIO/Docs-Source
``cloud-recording/rest-api/*.mdx``), placeholders filled in by the tests."""

from __future__ import annotations

from typing import Any

# acquire.mdx, "Request example"
ACQUIRE: dict[str, Any] = {
    "cname": "<your_channel_name>",
    "uid": "527841",
    "clientRequest": {"scene": 0, "resourceExpiredHour": 24},
}

# shared/cloud-recording/rest-api/start-examples.mdx, "Composite recording"
START_COMPOSITE: dict[str, Any] = {
    "cname": "<your_channel_name>",
    "uid": "<unique_user_id>",
    "clientRequest": {
        "recordingConfig": {
            "channelType": 1,
            "streamTypes": 2,
            "audioProfile": 2,
            "videoStreamType": 0,
            "maxIdleTime": 30,
            "transcodingConfig": {
                "width": 640,
                "height": 360,
                "fps": 15,
                "bitrate": 500,
                "mixedVideoLayout": 0,
                "backgroundColor": "#000000",
            },
            "subscribeVideoUids": ["#allstream#"],
            "subscribeAudioUids": ["#allstream#"],
        },
        "recordingFileConfig": {"avFileType": ["hls", "mp4"]},
        "storageConfig": {
            "vendor": 2,
            "region": 3,
            "bucket": "<your_storage_bucket>",
            "accessKey": "<your_storage_access_key>",
            "secretKey": "<your_storage_secret_key>",
            "fileNamePrefix": ["quickstart"],
        },
    },
}

# start-examples.mdx, "Cloud screenshot"
START_SCREENSHOT: dict[str, Any] = {
    "cname": "<your_channel_name>",
    "uid": "<unique_user_id>",
    "clientRequest": {
        "recordingConfig": {
            "channelType": 1,
            "streamTypes": 2,
            "videoStreamType": 0,
            "maxIdleTime": 30,
            "subscribeAudioUids": ["#allstream#"],
            "subscribeVideoUids": ["#allstream#"],
            "subscribeUidGroup": 5,
        },
        "snapshotConfig": {"captureInterval": 5, "fileType": ["jpg"]},
        "storageConfig": {
            "vendor": 2,
            "region": 3,
            "bucket": "<your_storage_bucket>",
            "accessKey": "<your_storage_access_key>",
            "secretKey": "<your_storage_secret_key>",
            "fileNamePrefix": ["quickstart"],
        },
    },
}

# update-layout.mdx, "Request example"
UPDATE_LAYOUT: dict[str, Any] = {
    "cname": "httpClient463224",
    "uid": "527841",
    "clientRequest": {
        "mixedVideoLayout": 3,
        "backgroundColor": "#FF0000",
        "layoutConfig": [
            {"uid": "1", "x_axis": 0.1, "y_axis": 0.1, "width": 0.1, "height": 0.1,
             "alpha": 1, "render_mode": 1},
            {"uid": "2", "x_axis": 0.2, "y_axis": 0.2, "width": 0.1, "height": 0.1,
             "alpha": 1, "render_mode": 1},
        ],
    },
}  # fmt: skip

# stop.mdx, "Request example"
STOP: dict[str, Any] = {
    "cname": "httpClient463224",
    "uid": "527841",
    "clientRequest": {"async_stop": False},
}
