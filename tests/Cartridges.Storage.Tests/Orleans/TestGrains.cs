// Small grains that exercise grain storage and reminders through the real providers.
using Orleans.Runtime;

namespace Cartridges.Storage.Tests.Orleans;

/// <summary>A counter persisted in the "cartridges" storage, with a reminder that counts its own ticks.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Adds one and persists.</summary>
    Task<int> IncrementAsync();

    /// <summary>The persisted count.</summary>
    Task<int> GetAsync();

    /// <summary>Registers the "tick" reminder.</summary>
    Task StartTickingAsync(TimeSpan due, TimeSpan period);

    /// <summary>Unregisters the "tick" reminder if present.</summary>
    Task StopTickingAsync();

    /// <summary>Whether the reminder table holds the "tick" reminder.</summary>
    Task<bool> IsTickingAsync();

    /// <summary>How many reminder ticks were persisted.</summary>
    Task<int> GetTicksAsync();

    /// <summary>Deactivates after this call, so the next call reads storage again.</summary>
    Task DeactivateAsync();

    /// <summary>The silo this activation runs on.</summary>
    Task<string> GetSiloAsync();
}

/// <summary>A grain whose state uses the default storage (no name), to check the default alias.</summary>
public interface INoteGrain : IGrainWithStringKey
{
    /// <summary>Persists the text.</summary>
    Task SetAsync(string text);

    /// <summary>The persisted text.</summary>
    Task<string?> GetAsync();

    /// <summary>Deactivates after this call.</summary>
    Task DeactivateAsync();
}

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)]
    public int Count { get; set; }

    [Id(1)]
    public int Ticks { get; set; }
}

[GenerateSerializer]
public sealed class NoteState
{
    [Id(0)]
    public string? Text { get; set; }
}

public sealed class CounterGrain(
    [PersistentState("counter", StorageNames.Cartridges)] IPersistentState<CounterState> state)
    : Grain, ICounterGrain, IRemindable
{
    private const string Reminder = "tick";

    public async Task<int> IncrementAsync()
    {
        state.State.Count++;
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public Task<int> GetAsync() => Task.FromResult(state.State.Count);

    public Task StartTickingAsync(TimeSpan due, TimeSpan period) => this.RegisterOrUpdateReminder(Reminder, due, period);

    public async Task StopTickingAsync()
    {
        if (await this.GetReminder(Reminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public async Task<bool> IsTickingAsync() => await this.GetReminder(Reminder) is not null;

    public Task<int> GetTicksAsync() => Task.FromResult(state.State.Ticks);

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task<string> GetSiloAsync() => Task.FromResult(RuntimeIdentity);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.Ticks++;
        await state.WriteStateAsync();
    }
}

public sealed class NoteGrain([PersistentState("note")] IPersistentState<NoteState> state) : Grain, INoteGrain
{
    public async Task SetAsync(string text)
    {
        state.State.Text = text;
        await state.WriteStateAsync();
    }

    public Task<string?> GetAsync() => Task.FromResult(state.State.Text);

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
