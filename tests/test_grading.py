"""The course's grading: the exercise tables, the nbgrader edition (checked by nbgrader itself),
the grade command (full marks for the book, 0 for the untouched student editions, 0 and a
message for broken submissions), and the student site without solutions."""

from __future__ import annotations

import csv
import html
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from xai_lib.booktools.chapters import (
    ANSWER_PLACEHOLDER,
    answer_cell,
    chapter_of,
    exercises,
    mark_edition,
    written_answer,
)
from xai_lib.booktools.grading import grade, write_csv
from xai_lib.booktools.kernel import offline
from xai_lib.booktools.nbgrader import BEGIN, END, graded_notebook, mark_solution
from xai_lib.booktools.notebooks import student_edition
from xai_lib.booktools.slicing import cell_names, needed_cells
from xai_lib.exercises.__main__ import main
from xai_lib.exercises.table import Coded, Written, chapter_table, rubric_points

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = [
    p
    for p in sorted(BOOK.glob("*.ipynb"))
    if chapter_table(chapter_of(nbformat.read(p, 4), p) or "")
]


def read(path: Path):
    return nbformat.read(path, as_version=4)


# --------------------------------------------------------------------------- the tables


def test_every_chapter_with_exercises_has_a_table():
    assert len(CHAPTERS) == 13, [p.name for p in CHAPTERS]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_table_matches_the_chapters_exercises(path):
    nb = read(path)
    chapter = chapter_of(nb, path)
    table, found = chapter_table(chapter), exercises(nb)
    assert list(table) == list(found), "the table lists the chapter's labels, in order"
    for label, exercise in found.items():
        entry = table[label]
        if exercise.gated:
            assert isinstance(entry, Coded), f"{label} has a checked solution"
            call = nb.cells[exercise.checker_cell].source.strip()
            assert (
                call == f"xl.exercises.{chapter}.{entry.check.__name__}({entry.answer})"
            )
            assert (
                rubric_points(entry.rubric) == entry.written
                if entry.written
                else not entry.rubric
            )
        else:
            assert isinstance(entry, Written), f"{label} is a written question"
            assert rubric_points(entry.rubric) == entry.points >= 1
            assert exercise.prose, f"{label}: the book has a model answer"


def test_rubric_lines_must_give_points():
    assert rubric_points("- 1 point: a\n- 2 points: b") == 3
    with pytest.raises(ValueError, match="must read"):
        rubric_points("one point for trying")


# --------------------------------------------------------------------------- nbgrader regions


def test_mark_solution_keeps_signatures_docstrings_and_imports():
    code = (
        'import torch\n\n\ndef f(x):\n    """Doc."""\n    y = x + 1\n    return y\n\n\n'
        "def g(x):\n    # a hint that is part of the solution\n    return x\n\n\n"
        "class C(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, z):\n"
        "        return z\n\n\nprint(f(1))\nvalue = 3"
    )
    marked = mark_solution(code)
    assert marked.startswith("import torch\n")
    assert f'"""Doc."""\n    {BEGIN}\n    y = x + 1\n    return y\n    {END}' in marked
    assert (
        f"def g(x):\n    {BEGIN}\n    # a hint that is part of the solution" in marked
    )
    assert (
        f"def forward(ctx, z):\n        {BEGIN}\n        return z\n        {END}"
        in marked
    )
    assert marked.endswith(f"{BEGIN}\nprint(f(1))\nvalue = 3\n{END}")
    stub = re.sub(
        rf"( *){BEGIN}.*?{END}", r"\1raise NotImplementedError()", marked, flags=re.S
    )
    namespace = {}
    exec(stub.rsplit("\n", 1)[0], namespace)  # all but the top-level stub: f is defined
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
    assert mark_solution("%timeit 1") == f"{BEGIN}\n%timeit 1\n{END}"


def test_graded_notebook_of_a_chapter():
    path = BOOK / "05_integrated_gradients.ipynb"
    graded = graded_notebook(read(path), chapter_table("ch05"), "ch05")
    grading = [c for c in graded.cells if "nbgrader" in c.metadata]
    kinds = [(c.cell_type, c.metadata.nbgrader["grade_id"]) for c in grading]
    assert kinds == [
        ("code", "ch05-integrated-gradients-answer-1"),
        ("code", "ch05-integrated-gradients-check"),
        ("markdown", "ch05-midpoint-kink"),
        ("markdown", "ch05-degree-k"),
        ("markdown", "ch05-blind-baseline"),
    ]
    answer, check, written = grading[0], grading[1], grading[2]
    assert BEGIN in answer.source and answer.metadata.nbgrader["solution"]
    assert check.metadata.nbgrader["points"] == 3 and check.metadata.nbgrader["locked"]
    assert "check_integrated_gradients(my_integrated_gradients)" in check.source
    assert written.metadata.nbgrader["points"] == 3 and "**Rubric.**" in written.source
    text = "\n".join(c.source for c in graded.cells)
    assert "solution-start" not in text and "{exercise" not in text
    assert graded.metadata.xai_lib["chapter"] == "ch05"


# --------------------------------------------------------------------------- notebooks


def test_chapter_of_every_edition():
    assert (
        chapter_of({"metadata": {"xai_lib": {"chapter": "ch07"}}, "cells": []})
        == "ch07"
    )
    assert (
        chapter_of(new_notebook(cells=[new_code_cell("xl.exercises.ch03.check_a(a)")]))
        == "ch03"
    )
    assert chapter_of(new_notebook(), "x/11_filtering.ipynb") == "ch11"
    assert chapter_of(new_notebook(), "notes.ipynb") is None


def test_written_answer_finds_the_students_words():
    nb = new_notebook(cells=[new_markdown_cell("intro"), answer_cell("ch99-q")])
    mark_edition(nb, "plain", "ch99")
    assert written_answer(nb, "ch99-q") == ""
    assert written_answer(nb, "ch99-other") is None
    nb.cells[1].source = nb.cells[1].source.replace(ANSWER_PLACEHOLDER, "Because b.")
    assert written_answer(nb, "ch99-q") == "Because b."
    nb.cells[1].source = nb.cells[1].source.replace("Because b.", ANSWER_PLACEHOLDER)
    nb.cells.append(new_markdown_cell("My answer, in a cell of my own."))  # added below
    assert written_answer(nb, "ch99-q") == "My answer, in a cell of my own."


def test_plain_edition_has_answer_cells_for_written_questions():
    edition = student_edition(read(BOOK / "01_linear_models.ipynb"))
    answers = [c.metadata.xai_lib for c in edition.cells if "xai_lib" in c.metadata]
    assert {"answer": "ch01-euler", "part": "written"} in answers
    assert {"answer": "ch01-nearest-root", "part": "code"} in answers
    assert {"answer": "ch01-nearest-root", "part": "written"} in answers
    assert all(
        written_answer(edition, label) == ""
        for label in ("ch01-euler", "ch01-bias-feature")
    )


def test_offline_comments_out_installs_and_shell_lines():
    assert (
        offline("%pip install x\nimport y")
        == "# (not run when grading) %pip install x\nimport y"
    )
    assert offline("if a:\n    !ls\n") == "if a:\n    # (not run when grading) !ls\n"
    assert offline("%%bash\nrm -rf /").startswith("# (not run when grading) %%bash\n# ")
    assert offline("%matplotlib inline") == "%matplotlib inline"


def test_needed_cells_follow_the_answers_dependencies():
    sources = [
        "import torch\nimport xai_lib as xl",  # 0: needed (torch, xl)
        "model = train_for_an_hour()",  # 1: not needed
        "def helper(v):\n    return scale * v",  # 2: needed by the answer
        "scale = 2",  # 3: needed by the helper
        "x = torch.zeros(3)\nplt.imshow(x)",  # 4: not needed
        "def answer(model, x):\n    return helper(x) + torch.ones(1)",  # 5
        "xl.exercises.ch99.check_answer(answer)",  # 6: a checker reads, not needed
        "def broken(:\n    answer = 1",  # 7: names the answer, does not parse: kept
    ]
    assert needed_cells(sources, {"answer"}) == [0, 2, 3, 5, 7]
    changing = [
        "items = []",
        "items.append(1)",
        "fit(model)",
        "model = Net()",
        "answer = items",
    ]
    assert needed_cells(changing, {"answer"}) == [0, 1, 4]
    assert cell_names("def f(a):\n    global g\n    g = a").binds >= {"f", "g"}


# --------------------------------------------------------------------------- grading


def bad_submissions(folder: Path) -> None:
    """Chapter 4 notebooks that break in every way a grader must survive."""
    base = [new_code_cell("import torch\nimport xai_lib as xl")]

    def write(name, *sources):
        nb = new_notebook(cells=base + [new_code_cell(s) for s in sources])
        nb.metadata["xai_lib"] = {"chapter": "ch04"}
        nbformat.write(nb, folder / name)

    folder.mkdir(parents=True)
    write(
        "shortcut.ipynb",
        "def saliency_map(m, x, t):\n    return xl.aggregate(xl.saliency(m, x, t), 'max_abs')",
        "from xai_lib.methods.text import token_attributions\n\n"
        "def token_contributions(model, tokens, target):\n"
        "    return token_attributions(model, tokens, target, method='gradient_x_input', how='sum')",
    )
    write(
        "broken.ipynb",
        "def saliency_map(model, x, target:\n    return x",  # SyntaxError
        "def token_contributions(model, tokens, target):\n    while True:\n        pass",
    )
    write("slow.ipynb", "import time\ntime.sleep(600)\nsaliency_map = None")
    write("dies.ipynb", "def saliency_map(m, x, t):\n    import os\n    os._exit(3)")
    (folder / "04_not_json.ipynb").write_text("{ this is not a notebook")
    # one answer kills the kernel in its check, another loops in its cell: the right
    # answer beside each still gets its points
    write("dies_beside_a_right_answer.ipynb", DIES, RIGHT_TOKENS)
    write("loops_beside_a_right_answer.ipynb", RIGHT_TOKENS, LOOPS)
    # answers that try to pass without solving: each gets 0 and a flag
    write(
        "reads_the_checkers_frame.ipynb",
        "import sys\n\ndef saliency_map(m, x, t):\n"
        "    return sys._getframe(1).f_locals['expected'].clone()",
    )
    write(
        "patches_the_feedback.ipynb",
        "import xai_lib.exercises.feedback as fb\n"
        "fb.Feedback.__bool__ = lambda self: True\n\n"
        "def saliency_map(m, x, t):\n    raise NotImplementedError",
    )
    write(
        "forges_the_result_line.ipynb",
        "import json\n"
        "def forge(result):\n"
        "    code = result.info.raw_cell\n"
        "    if 'grade_answer' in code:\n"
        '        prefix = code.split("\'")[1]\n'
        "        print(prefix + json.dumps({'passed': True, 'message': 'PASSED: sure'}))\n"
        "get_ipython().events.register('post_run_cell', forge)\n\n"
        "def saliency_map(m, x, t):\n    raise NotImplementedError",
    )


DIES = "def saliency_map(m, x, t):\n    import os\n    os._exit(3)"
LOOPS = "def saliency_map(m, x, t):\n    return x\n\nwhile True:\n    pass"
RIGHT_TOKENS = (
    "def token_contributions(model, tokens, target):\n"
    "    embeddings = model.embed(tokens).detach().requires_grad_(True)\n"
    "    (grad,) = torch.autograd.grad(model(embeddings)[:, target].sum(), embeddings)\n"
    "    return (grad * embeddings).sum(dim=-1).detach()"
)


@pytest.mark.slow
def test_grade_survives_broken_submissions_and_refuses_shortcuts(tmp_path):
    folder = tmp_path / "submissions"
    bad_submissions(folder)
    out = tmp_path / "grades.csv"
    code = main(
        [
            "grade",
            str(folder),
            "--out",
            str(out),
            "--timeout",
            "60",
            "--check-timeout",
            "20",
            "--cell-timeout",
            "15",
            "--jobs",
            "2",
        ]
    )
    assert code == 0
    with out.open() as file:
        rows = {(r["submission"], r["exercise"]): r for r in csv.DictReader(file)}
    assert list(next(iter(rows.values()))) == [
        "submission",
        "chapter",
        "exercise",
        "points",
        "max_points",
        "message",
        "seconds",
    ]
    coded = [
        k for k in rows if k[1] in ("ch04-saliency-map", "ch04-token-contributions")
    ]
    right = [
        ("dies_beside_a_right_answer.ipynb", "ch04-token-contributions"),
        ("loops_beside_a_right_answer.ipynb", "ch04-token-contributions"),
    ]
    assert len(coded) == 20 and all(
        rows[k]["points"] == ("2" if k in right else "0") for k in coded
    ), {k: (rows[k]["points"], rows[k]["message"]) for k in coded}

    def message(name, label="ch04-saliency-map"):
        return rows[(name, label)]["message"]

    assert "calls xl.saliency" in message("shortcut.ipynb") and "by hand" in message(
        "shortcut.ipynb"
    )
    assert "calls xl.text.token_attributions" in message(
        "shortcut.ipynb", "ch04-token-contributions"
    )
    assert "raised SyntaxError" in message("broken.ipynb")
    assert "did not finish within 20 s" in message(
        "broken.ipynb", "ch04-token-contributions"
    )
    assert "did not finish within the time limit" in message("slow.ipynb")
    assert "kernel" in message("dies.ipynb")
    assert "kernel" in message("dies_beside_a_right_answer.ipynb")
    assert "did not finish within the time limit" in message(
        "loops_beside_a_right_answer.ipynb"
    )
    assert "KeyError: 'expected'" in message("reads_the_checkers_frame.ipynb")
    for tampering in ("patches_the_feedback", "forges_the_result_line"):
        assert "interfered with" in message(f"{tampering}.ipynb")
        assert "inspect by hand" in message(f"{tampering}.ipynb")
    assert "cannot read the notebook" in message("04_not_json.ipynb")
    written = [r for k, r in rows.items() if k[1] == "ch04-relu-unit"]
    assert len(written) == 10 and all(
        "no answer cell" in r["message"] for r in written[1:]
    )


def points_by_chapter(rows) -> dict[str, tuple[float, int, int]]:
    """chapter -> (points checked, their maximum, points of written answers to grade)."""
    totals: dict[str, list] = {}
    for row in rows:
        total = totals.setdefault(row.chapter, [0.0, 0, 0])
        if row.points is None:
            total[2] += row.max_points
        else:
            total[0] += row.points
            total[1] += row.max_points
    return {chapter: tuple(t) for chapter, t in totals.items()}


@pytest.mark.slow
def test_the_books_own_notebooks_get_full_marks(tmp_path):
    start = time.perf_counter()
    rows = grade(BOOK, jobs=2)
    seconds = time.perf_counter() - start
    write_csv(rows, tmp_path / "grades.csv")
    graded = [r for r in rows if r.exercise]
    assert {r.chapter for r in graded} == {f"ch{n:02d}" for n in range(13)}
    failed = [r for r in graded if r.points is not None and r.points != r.max_points]
    assert not failed, "\n".join(f"{r.exercise}: {r.message}" for r in failed)
    unanswered = [
        r for r in graded if r.points is None and not r.message.startswith("answered")
    ]
    assert not unanswered and all(
        r.points is None for r in graded if r.exercise.endswith("written")
    )
    print(f"\ngrading the book's 13 chapters took {seconds:.0f} s")
    for chapter, (points, most, by_hand) in sorted(points_by_chapter(graded).items()):
        print(f"{chapter}: {points:g} of {most} checked, {by_hand} by hand")


@pytest.mark.slow
def test_the_nbgrader_edition_passes_nbgrader_and_grades_zero_untouched(tmp_path):
    course = tmp_path / "course"
    assert main(["student", str(BOOK), str(course), "--format", "nbgrader"]) == 0
    release = course / "release"
    assert sorted(p.name for p in release.iterdir()) == sorted(p.stem for p in CHAPTERS)
    assert (course / "rubric.md").read_text().count("- 1 point:") > 50
    for path in CHAPTERS:
        student = read(release / path.stem / path.name)
        text = "\n".join(c.source for c in student.cells)
        assert "BEGIN SOLUTION" not in text and "**Rubric.**" not in text
        leaked = [p for p in solution_phrases(read(path)) if p in "".join(text.split())]
        assert not leaked, f"{path.name}: the students' copy shows {leaked[:3]}"
    # nbgrader's own validation: the instructors' copy passes every test
    validate = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "validate",
            "source/00_preface/00_preface.ipynb",
        ],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert "Success! Your notebook passes all the tests." in validate.stdout, (
        validate.stdout
    )
    rows = grade(release, jobs=2)
    graded = [r for r in rows if r.exercise]
    assert len(graded) == sum(
        1 + bool(isinstance(e, Coded) and e.written)
        for p in CHAPTERS
        for e in chapter_table(chapter_of(read(p), p)).values()
    )
    assert all(r.points == 0 for r in graded), [r for r in graded if r.points != 0][:3]
    messages = {r.message.split(" - ")[0] for r in graded}
    assert all("not written yet" in m or "not answered" in m for m in messages), (
        messages
    )


@pytest.mark.slow
def test_the_plain_student_edition_grades_zero(tmp_path):
    out = tmp_path / "plain"
    assert main(["student", str(BOOK), str(out)]) == 0
    folder = tmp_path / "submitted"
    folder.mkdir()
    for name in ("00_preface.ipynb", "07_propagation.ipynb"):
        (folder / name).write_bytes((out / name).read_bytes())
    rows = grade(folder)
    assert len(rows) == 2 + 4 and all(r.points == 0 for r in rows), rows


# --------------------------------------------------------------------------- the student site


def page_text(path: Path) -> str:
    """A page's text without tags (syntax highlighting splits code into spans), quotes
    straightened and every blank removed: solution text is searched for in it the same way."""
    text = re.sub(r"<(script|style)\b.*?</\1>", "", path.read_text(), flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    for curly, straight in (
        ("\u2019", "'"),
        ("\u2018", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
    ):
        text = text.replace(curly, straight)
    return "".join(text.split())


def solution_phrases(nb) -> list[str]:
    """Runs of eight words of the solutions' prose (outside math) and code lines of the
    solutions that appear nowhere else in the chapter."""
    phrases = []
    found = exercises(nb)
    outside = "\n".join(
        c.source
        for i, c in enumerate(nb.cells)
        if not any(i in e.code_cells for e in found.values())
    )
    for exercise in found.values():
        prose = re.sub(r"\$[^$]*\$|`[^`]*`|\{[^}]*\}", "|", exercise.prose)
        for run in re.split(r"[|()\[\]*_:;]", prose):
            words = run.split()
            if len(words) >= 8:
                phrases.append("".join(words[:8]))
        for index in exercise.code_cells:
            for line in nb.cells[index].source.splitlines():
                line = line.strip()
                if (
                    len(line) > 25
                    and not line.startswith(("#", "def ", "class ", "@", '"""'))
                    and line not in outside
                ):
                    phrases.append("".join(line.split()))
    return phrases


@pytest.mark.slow
def test_the_student_site_has_no_solutions(book_build, tmp_path):
    executed = book_build.html.parent / "jupyter_execute"
    assert (
        main(["site", str(ROOT), str(tmp_path / "site"), "--executed", str(executed)])
        == 0
    )
    site = tmp_path / "site" / "_build" / "html"
    for path in CHAPTERS:
        nb, page = read(path), page_text(site / "book" / f"{path.stem}.html")
        full = page_text(book_build.html / "book" / f"{path.stem}.html")
        phrases = solution_phrases(nb)
        assert (
            phrases and sum(p in full for p in phrases) >= len(phrases) // 2
        )  # they render
        leaked = [p for p in phrases if p in page]
        assert not leaked, f"{path.name} shows solution text: {leaked[:3]}"
        assert "Solutionto" not in page  # no "Solution to Exercise N" dropdown
        for exercise in exercises(nb).values():
            assert "".join(exercise.title.split()) in page  # the exercises stay


def test_the_instructors_page_gives_each_chapters_points():
    rows = re.findall(
        r"^\| (\d+) [^|]+\| (\d+) \((\d+)\) \| (\d+) \((\d+)\) \|",
        (BOOK / "instructors.md").read_text(),
        flags=re.M,
    )
    assert len(rows) == len(CHAPTERS)
    for number, coded, coded_points, written, written_points in rows:
        table = chapter_table(f"ch{int(number):02d}")
        checked = [e for e in table.values() if isinstance(e, Coded)]
        by_hand = [e.written for e in checked if e.written]
        by_hand += [e.points for e in table.values() if isinstance(e, Written)]
        assert (int(coded), int(coded_points)) == (
            len(checked),
            sum(e.points for e in checked),
        ), number
        assert (int(written), int(written_points)) == (len(by_hand), sum(by_hand)), (
            number
        )
