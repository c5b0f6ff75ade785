"""The condition language of `when`: lexer -> parser -> nodes -> check.

Rule text is never evaluated as Python: it is tokenised and parsed by hand into frozen
nodes, and only those nodes are ever interpreted.
"""

from redflag.core.expr.check import check_condition
from redflag.core.expr.nodes import Node
from redflag.core.expr.parser import parse_condition

__all__ = ["Node", "check_condition", "parse_condition"]
