"""The embedded LRS: xAPI Statement, document, Activities and Agents resources as a blueprint."""

from xapi.lrs.blueprint import create_lrs_blueprint

__all__ = ["create_lrs_blueprint"]
