"""pylti1p3's tool configuration over the Platform and Deployment tables."""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.keys import active_key
from lti_tool.models import Deployment, DeploymentStatus, Platform


class ToolRegistration(Registration):
    """A pylti1p3 registration that signs with the tool's active key and its kid."""

    def __init__(self, platform: Platform, kid: str | None):
        super().__init__()
        self.platform = platform
        self._kid = kid

    def get_kid(self) -> str | None:
        """The kid of the active tool key (pylti1p3 would derive none)."""
        return self._kid


class DbToolConf(ToolConfAbstract[Any]):
    """Finds registrations and deployments in the database; many client ids per issuer."""

    def __init__(self, session: Session):
        self.session = session
        self.issuers_relation_types = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Every issuer may have many client ids (Canvas uses one issuer for all tenants)."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """See check_iss_has_one_client."""
        return True

    def find_platform(self, iss: str, client_id: str | None) -> Platform | None:
        """The platform of an issuer and client id; without a client id only if unambiguous."""
        query = select(Platform).where(Platform.issuer == iss)
        if client_id:
            return self.session.scalars(query.where(Platform.client_id == client_id)).first()
        found = self.session.scalars(query.limit(2)).all()
        return found[0] if len(found) == 1 else None

    def registration_for(self, platform: Platform) -> ToolRegistration:
        """A pylti1p3 registration for a platform row, with the tool's signing key."""
        key = active_key(self.session)
        assert key is not None
        reg = ToolRegistration(platform, key.kid)
        reg.set_issuer(platform.issuer).set_client_id(platform.client_id)
        reg.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        reg.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            reg.set_auth_audience(platform.auth_audience)
        reg.set_tool_private_key(key.private_pem)
        return reg

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        """Registration of an issuer that has exactly one client id."""
        platform = self.find_platform(iss, None)
        return self.registration_for(platform) if platform else None  # type: ignore[return-value]

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration:
        """Registration of an issuer and client id."""
        platform = self.find_platform(iss, client_id)
        return self.registration_for(platform) if platform else None  # type: ignore[return-value]

    def find_deployment_row(self, platform: Platform, deployment_id: str) -> Deployment | None:
        """The deployment row of a platform, whatever its status."""
        return self.session.scalars(
            select(Deployment).where(
                Deployment.platform_id == platform.id, Deployment.deployment_id == deployment_id
            )
        ).first()

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        """An active deployment of an issuer with one client id."""
        platform = self.find_platform(iss, None)
        return self._active(platform, deployment_id)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        """An active deployment of an issuer and client id."""
        return self._active(self.find_platform(iss, client_id), deployment_id)

    def _active(self, platform: Platform | None, deployment_id: str) -> LtiDeployment | None:
        if platform is None:
            return None
        row = self.find_deployment_row(platform, deployment_id)
        if row is None or row.status != DeploymentStatus.ACTIVE:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)
