"""Per-app encrypted containers (issue 16): the account's side (`Apps`), the app credential
file (`AppCredential`), an app process's session (`runtime`) and a container's paths
(`ContainerSpaces`)."""

from blindvault.client.apps.container import Container, ContainerSpaces
from blindvault.client.apps.credential import AppCredential, check_app_id
from blindvault.client.apps.manage import Apps
from blindvault.client.apps.runtime import granted_container, open_app_session, own_container

__all__ = [
    "AppCredential",
    "Apps",
    "Container",
    "ContainerSpaces",
    "check_app_id",
    "granted_container",
    "open_app_session",
    "own_container",
]
