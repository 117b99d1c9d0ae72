"""The dynamic provider as the engine drives it: `python -m pulumi.dynamic` started as a process,
Configure/Check/Diff/Create/Read/Update/Delete over gRPC with the serialized provider in
`__provider`; the provider pickles by reference to its public import path; and 3,000 resources
register under `pulumi.runtime.set_mocks` without the serializer crashing."""

from __future__ import annotations

import base64
import subprocess
import sys
from typing import Any, Iterator

import grpc
import pulumi
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from emulator.testing import ROOT, EmulatorProcess, aws_env, client
from provider import PackageVersionsStatus, PackageVersionStatusProvider

URN = "urn:pulumi:test::proj::pulumi-python:dynamic/codeartifact:PackageVersionStatus::one"


def struct(d: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


def as_dict(s: struct_pb2.Struct) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(s)


@pytest.fixture
def dynamic_server() -> Iterator[Any]:
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.dynamic"], cwd=ROOT, env=aws_env(),
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield provider_pb2_grpc.ResourceProviderStub(channel)
    channel.close()
    proc.terminate()
    proc.wait(timeout=10)


def test_provider_pickles_by_reference_to_its_public_path() -> None:
    blob = base64.b64decode(serialize_provider(PackageVersionStatusProvider()))
    assert b"provider.package_version_status" in blob and b"PackageVersionStatusProvider" in blob
    assert len(blob) < 400  # a reference, not the class body
    assert PackageVersionStatusProvider().__dict__ == {}


@pytest.mark.emulator
def test_lifecycle_over_grpc(emulator: EmulatorProcess, dynamic_server: Any) -> None:
    emulator.seed({"domains": [{"name": "dom", "repositories": [{"name": "repo", "packages": [
        {"format": "maven", "namespace": "org.apache.logging.log4j", "name": "log4j", "versions": ["2.13.1"]}]}]}]})
    stub = dynamic_server
    stub.Configure(provider_pb2.ConfigureRequest(args=struct({
        "codeartifact:endpointUrl": emulator.url, "codeartifact:region": "us-east-1",
        "codeartifact:cacheTtlSeconds": "0"})))
    blob = serialize_provider(PackageVersionStatusProvider())
    news = {"__provider": blob, "domain": "dom", "repository": "repo", "format": "maven",
            "namespace": "org.apache.logging.log4j", "package": "log4j", "version": "2.13.1", "status": "Archived",
            "revision": None, "original_status": None}

    bad = stub.Check(provider_pb2.CheckRequest(urn=URN, olds=struct({}), news=struct({**news, "namespace": None})))
    assert [f.property for f in bad.failures] == ["namespace"]

    checked = stub.Check(provider_pb2.CheckRequest(urn=URN, olds=struct({}), news=struct(news)))
    assert not checked.failures
    created = stub.Create(provider_pb2.CreateRequest(urn=URN, properties=checked.inputs))
    assert created.id == "dom/repo/maven/org.apache.logging.log4j/log4j@2.13.1"
    outs = as_dict(created.properties)
    assert outs["status"] == "Archived" and outs["original_status"] == "Published" and outs["revision"]

    news2 = {**news, "status": "Unlisted"}
    checked2 = stub.Check(provider_pb2.CheckRequest(urn=URN, olds=checked.inputs, news=struct(news2)))
    diff = stub.Diff(provider_pb2.DiffRequest(id=created.id, urn=URN, olds=created.properties, news=checked2.inputs))
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and not diff.replaces
    moved = stub.Diff(provider_pb2.DiffRequest(id=created.id, urn=URN, olds=created.properties,
                                               news=struct({**as_dict(checked2.inputs), "version": "2.14.0"})))
    assert list(moved.replaces) == ["version"]

    updated = stub.Update(provider_pb2.UpdateRequest(id=created.id, urn=URN, olds=created.properties,
                                                     news=checked2.inputs))
    assert as_dict(updated.properties)["status"] == "Unlisted"

    client(emulator.url).update_package_versions_status(
        domain="dom", repository="repo", format="maven", namespace="org.apache.logging.log4j", package="log4j",
        versions=["2.13.1"], targetStatus="Published")
    read = stub.Read(provider_pb2.ReadRequest(id=created.id, urn=URN, properties=updated.properties))
    assert read.id == created.id
    assert as_dict(read.properties)["status"] == "Published"  # the drift, in outputs...
    assert as_dict(read.inputs)["status"] == "Published"  # ...and in inputs, so `preview --diff` shows it

    stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=URN, properties=read.properties))
    assert client(emulator.url).describe_package_version(
        domain="dom", repository="repo", format="maven", namespace="org.apache.logging.log4j", package="log4j",
        packageVersion="2.13.1")["packageVersion"]["status"] == "Published"  # delete leaves it as it is


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


@pulumi.runtime.test
def test_three_thousand_resources_register_without_crash() -> Any:
    pulumi.runtime.set_mocks(_Mocks(), preview=False)
    resources = [PackageVersionsStatus(f"pkg-{i}", domain="dom", repository="repo", format="npm",
                                       package=f"p{i}", versions={"1.0.0": "Archived"}) for i in range(3000)]

    def check(urns: list[str]) -> None:
        assert len(set(urns)) == 3000

    return pulumi.Output.all(*[r.urn for r in resources]).apply(check)


def test_the_provider_host_exits_once_the_engine_that_started_it_is_gone() -> None:
    """Started by an engine (its address as the argument), the host lives while that engine
    answers and ends once it is gone (the stock host would wait for a signal forever)."""
    import time
    from concurrent import futures

    engine = grpc.server(futures.ThreadPoolExecutor(max_workers=2))  # no health service: alive
    engine_port = engine.add_insecure_port("127.0.0.1:0")
    engine.start()
    code = ("import runpy, sys; from provider._core import host; host.ENGINE_CHECK_SECONDS = 0.2; "
            "runpy.run_module('pulumi.dynamic', run_name='__main__', alter_sys=True)")
    proc = subprocess.Popen([sys.executable, "-u", "-c", code, f"127.0.0.1:{engine_port}"], cwd=ROOT, env=aws_env(),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        channel = grpc.insecure_channel(f"127.0.0.1:{int(proc.stdout.readline())}")
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        # The first request that reaches the provider's code starts the watch
        stub.Check(provider_pb2.CheckRequest(urn=URN, olds=struct({}), news=struct({
            "__provider": serialize_provider(PackageVersionStatusProvider())})))
        time.sleep(1.5)  # seven checks answered UNIMPLEMENTED
        assert proc.poll() is None
        engine.stop(grace=0)
        assert proc.wait(timeout=10) == 0
        channel.close()
    finally:
        engine.stop(grace=0)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_provider_host_exits_only_after_its_writes_in_flight() -> None:
    import threading
    import time

    from provider._core import host

    exited: list[float] = []
    write_done = threading.Event()

    def write() -> None:
        with host.writing():
            time.sleep(0.5)
            write_done.set()

    t = threading.Thread(target=write)
    t.start()
    time.sleep(0.1)
    host.exit_when_idle(exit=lambda code: exited.append(time.monotonic()))
    assert write_done.is_set() and len(exited) == 1
    t.join()
    assert host.engine_address() is None  # pytest is not a provider host: no watch here
    assert host.exit_when_engine_gone() is False
