"""Data for silos: sources (bundled and user files), standardized splits, non-IID partitions."""

from fl_node.data._dataset import ArrayDataset, DatasetMeta, DataSplit, make_split
from fl_node.data._errors import DataError
from fl_node.data._partition import (
    PartitionReport,
    dirichlet_label_partition,
    iid_partition,
    label_histograms,
    partition,
    partition_report,
    quantity_skew_partition,
)
from fl_node.data._sources import (
    BUILTIN_DATASETS,
    CsvSource,
    DataSource,
    NpzSource,
    SklearnSource,
    get_source,
)

__all__ = [
    "BUILTIN_DATASETS",
    "ArrayDataset",
    "CsvSource",
    "DataError",
    "DataSource",
    "DataSplit",
    "DatasetMeta",
    "NpzSource",
    "PartitionReport",
    "SklearnSource",
    "dirichlet_label_partition",
    "get_source",
    "iid_partition",
    "label_histograms",
    "make_split",
    "partition",
    "partition_report",
    "quantity_skew_partition",
]
