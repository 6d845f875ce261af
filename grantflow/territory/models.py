"""Reference data: the municipalities of the programme's territory and their parishes and towns."""

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db


class Municipality(db.Model):
    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30))  # novads | valstspilsēta

    units: Mapped[list["Parish"]] = relationship(
        back_populates="municipality", order_by="Parish.name", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Parish(db.Model):
    """A parish (pagasts) or a town (pilsēta) inside a municipality."""

    __tablename__ = "parishes"
    __table_args__ = (UniqueConstraint("municipality_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))  # pagasts | pilsēta

    municipality: Mapped[Municipality] = relationship(back_populates="units")

    def __str__(self) -> str:
        return self.name
