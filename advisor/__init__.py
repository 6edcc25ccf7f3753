"""ml-advisor: classical ML, deep learning, or both? An explained recommendation from a project descriptor."""

from advisor.recommendation import Recommendation
from advisor.schema import DescriptorError, ProjectDescriptor, load_descriptor
from advisor.engine import recommend

__all__ = ["DescriptorError", "ProjectDescriptor", "Recommendation", "load_descriptor", "recommend"]
